package subscribers

import (
	"context"
	"errors"
	"newsletter"
	"strings"

	"github.com/redis/go-redis/v9"
)

// erase removes subscriber id and everything that mentions it: its hash
// (consent history included), audience entries, index entry and
// confirmation emails still in the outbox. Its confirmation tokens die
// with its hash.
func (s *Store) erase(ctx context.Context, id int64, addr string) error {
	fields, err := s.rdb.HKeys(ctx, keySubscriber(id)).Result()
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		queueErase(ctx, p, id, addr, fields)
		return nil
	})
	return err
}

// eraseIfBare erases subscriber id, as erase does, when it holds no
// subscription at all, which means it never confirmed anything: confirmed
// and unsubscribed subscriptions are kept for good. It reports whether it
// erased. A subscription added meanwhile (a new signup) cancels the erase.
func (s *Store) eraseIfBare(ctx context.Context, id int64) (bool, error) {
	erased := false
	err := s.rdb.Watch(ctx, func(tx *redis.Tx) error {
		h, err := tx.HGetAll(ctx, keySubscriber(id)).Result()
		if err != nil || len(h) == 0 {
			return err
		}
		fields := make([]string, 0, len(h))
		for f := range h {
			if strings.HasPrefix(f, prefixSubscription) {
				return nil
			}
			fields = append(fields, f)
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			queueErase(ctx, p, id, h[fieldEmail], fields)
			return nil
		})
		erased = err == nil
		return err
	}, keySubscriber(id))
	if errors.Is(err, redis.TxFailedErr) {
		return false, nil
	}
	return erased, err
}

// clearBitScript clears bit ARGV[1] of each bitmap in KEYS that exists
// (SETBIT on a missing key would create it, zero-filled up to the bit).
var clearBitScript = redis.NewScript(luaClearBit + `
for _, k in ipairs(KEYS) do
  if redis.call('EXISTS', k) == 1 then clearbit(k, ARGV[1]) end
end
return 0
`)

// blankOutboxScript blanks the entries of subscriber ARGV[1] in the
// confirmation outbox and its dead list (KEYS) in place: removing them
// would shift the entries a relay may be handing on, which it removes by
// count. It reads the whole of both lists, which are short unless no
// worker has run for a while.
var blankOutboxScript = redis.NewScript(`
local prefix = ARGV[1] .. '\n'
for _, k in ipairs(KEYS) do
  for i, e in ipairs(redis.call('LRANGE', k, 0, -1)) do
    if string.sub(e, 1, #prefix) == prefix then redis.call('LSET', k, i - 1, '') end
  end
end
return 0
`)

// queueErase queues the commands that remove subscriber id, with address
// addr and hash fields fields.
// Every key is in the subscriber's partition, so the whole is one
// transaction on one slot.
func queueErase(ctx context.Context, p redis.Pipeliner, id int64, addr string, fields []string) {
	part := newsletter.PartitionOf(id)
	for _, f := range fields {
		if nl, ok := strings.CutPrefix(f, prefixSubscription); ok {
			clearBitScript.Eval(ctx, p, audienceKeys(nl, part), newsletter.BitOf(id))
		}
	}
	blankOutboxScript.Eval(ctx, p, []string{keyOutbox(part), keyOutboxDead(part)}, id)
	p.Del(ctx, keySubscriber(id))
	if addr != "" {
		p.HDel(ctx, keyIndex(part), AddressKey(addr))
	}
}
