package digests

import (
	"context"
	"errors"

	"github.com/redis/go-redis/v9"
)

// audiencePending reports whether digest id is scheduled and its audience
// not frozen yet.
func (s *Store) audiencePending(ctx context.Context, id string) (bool, error) {
	return s.rdb.HExists(ctx, keyDigest(id), "audience_pending").Result()
}

// freezeScript records the number of recipients of a scheduled digest whose
// audience was just frozen, if it is still queued with its audience
// pending, and takes it out of the scheduled index. It returns 1 when it
// did.
//
// KEYS: digest hash, scheduled index. ARGV: total, id.
var freezeScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'status') ~= 'queued' or redis.call('HEXISTS', KEYS[1], 'audience_pending') == 0 then
  return 0
end
redis.call('HSET', KEYS[1], 'total', ARGV[1])
redis.call('HDEL', KEYS[1], 'audience_pending')
redis.call('ZREM', KEYS[2], ARGV[2])
return 1
`)

// freeze copies the confirmed audience of scheduled digest d, in every
// partition, and then records its total. Nothing has been sent before (the
// digest starts sending after), so a retry that copies again is harmless.
func (s *Store) freeze(ctx context.Context, d *Digest, confirmed AudienceKeyFunc) error {
	total, err := s.createParts(ctx, d, confirmed)
	if err != nil {
		return err
	}
	return freezeScript.Run(ctx, s.rdb, []string{keyDigest(d.ID), keyScheduled(d.Newsletter)}, total, d.ID).Err()
}

// giveBack puts newsletter nl's cutoff back to where it was before digest
// d, canceled before it started, moved it, unless a later digest has moved
// it since; and takes d out of the scheduled index.
func (s *Store) giveBack(ctx context.Context, d *Digest) error {
	prev, err := s.rdb.HGet(ctx, keyDigest(d.ID), "prev_cutoff").Result()
	if errors.Is(err, redis.Nil) {
		return nil // stored before prev_cutoff was kept
	} else if err != nil {
		return err
	}
	if err := s.rdb.ZRem(ctx, keyScheduled(d.Newsletter), d.ID).Err(); err != nil {
		return err
	}
	return s.restoreCutoff(ctx, d.Newsletter, d.Cutoff, prev)
}

// maxScheduled caps how many scheduled digests of a newsletter are listed.
const maxScheduled = 100

// Scheduled returns newsletter nl's digests that are still queued for
// their send_at, soonest first, dropping from its index any that started
// or were canceled.
func (s *Store) Scheduled(ctx context.Context, nl string) ([]*Digest, error) {
	ids, err := s.rdb.ZRange(ctx, keyScheduled(nl), 0, maxScheduled-1).Result()
	if err != nil {
		return nil, err
	}
	var out []*Digest
	for _, id := range ids {
		d, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if d == nil || d.Status != StatusQueued || d.SendAt == nil {
			s.rdb.ZRem(ctx, keyScheduled(nl), id)
			continue
		}
		out = append(out, d)
	}
	return out, nil
}
