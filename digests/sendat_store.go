package digests

import (
	"context"
	"encoding/json"
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
	return s.restoreCutoff(ctx, d, prev)
}

// restoreCutoffScript marks digest KEYS[1] as having given its articles
// back, and puts the newsletter's cutoff back to ARGV[2] (removes it when
// ARGV[2] is empty) if it still is ARGV[1].
//
// KEYS: digest hash, cutoff. ARGV: cutoff ms to replace, cutoff ms to
// restore or empty.
var restoreCutoffScript = redis.NewScript(`
redis.call('HSET', KEYS[1], 'given_back', '1')
if redis.call('GET', KEYS[2]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[2]) else redis.call('SET', KEYS[2], ARGV[2]) end
return 1
`)

// restoreCutoff gives the articles of digest d, which sent nothing, back
// to the next digest: it puts the newsletter's cutoff back to prev, where
// it was before d, unless a later digest has moved it since. When the
// digests before d gave their articles back too (two scheduled digests
// canceled in the order they were made), the cutoff goes back past them.
func (s *Store) restoreCutoff(ctx context.Context, d *Digest, prev string) error {
	prev, err := s.cutoffBefore(ctx, d, prev)
	if err != nil {
		return err
	}
	keys := []string{keyDigest(d.ID), keyCutoff(d.Newsletter)}
	return restoreCutoffScript.Run(ctx, s.rdb, keys, d.Cutoff.UnixMilli(), prev).Err()
}

// maxGiveBackChain bounds how many earlier digests restoreCutoff walks back.
const maxGiveBackChain = 20

// cutoffBefore follows prev, the cutoff digest d replaced, back through the
// digests made before d: while the one before (test digests aside) gave its
// articles back and its cutoff is prev, prev becomes the cutoff that one
// replaced.
func (s *Store) cutoffBefore(ctx context.Context, d *Digest, prev string) (string, error) {
	rank, err := s.rdb.ZRevRank(ctx, keyDigests(d.Newsletter), d.ID).Result()
	if errors.Is(err, redis.Nil) {
		return prev, nil
	} else if err != nil {
		return "", err
	}
	ids, err := s.rdb.ZRevRange(ctx, keyDigests(d.Newsletter), rank+1, rank+maxGiveBackChain).Result()
	if err != nil {
		return "", err
	}
	for _, id := range ids {
		v, err := s.rdb.HMGet(ctx, keyDigest(id), "meta", "prev_cutoff", "given_back").Result()
		if err != nil {
			return "", err
		}
		var e Digest
		if err := json.Unmarshal([]byte(str(v[0])), &e); err != nil {
			return prev, nil
		}
		if e.IsTest() {
			continue
		}
		if prev == "" || str(v[2]) != "1" || itoa(e.Cutoff.UnixMilli()) != prev {
			return prev, nil
		}
		prev = str(v[1])
	}
	return prev, nil
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
