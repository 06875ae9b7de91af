package subscribers

import (
	"context"
	"newsletter"

	"github.com/redis/go-redis/v9"
)

// An audience (one newsletter's subscribers in one status) is a Redis
// bitmap with bit {subscriber id} set: ids are dense, so 100,000 readers
// take 12.5 KB instead of the 9.6 MB of a sorted set. SETBIT adds and
// removes, BITCOUNT counts and GETRANGE pages through in id order.

// luaClearBit defines clearbit(key, id) for scripts: it clears the bit and
// deletes the bitmap once no bit is left, as ZREM does with an empty set.
// BITPOS stops at the first set bit, so this is cheap for a live audience.
const luaClearBit = `
local function clearbit(k, id)
  redis.call('SETBIT', k, id, 0)
  if redis.call('BITPOS', k, 1) == -1 then redis.call('DEL', k) end
end
`

// audienceChunk is how many bytes of a bitmap one page read fetches: the
// ids of 65,536 subscribers.
const audienceChunk = 8 << 10

// audienceAfter returns up to count ids above after in the audience at
// key, in order.
func (s *Store) audienceAfter(ctx context.Context, key string, after, count int64) ([]int64, error) {
	var ids []int64
	for first := (after + 1) / 8; int64(len(ids)) < count; first += audienceChunk {
		b, err := s.rdb.GetRange(ctx, key, first, first+audienceChunk-1).Bytes()
		if err != nil && err != redis.Nil {
			return nil, err
		}
		ids = newsletter.AppendIDs(ids, b, first, after+1, 1<<62)
		if len(b) < audienceChunk {
			break
		}
	}
	return ids[:min(int64(len(ids)), count)], nil
}
