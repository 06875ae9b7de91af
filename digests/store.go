package digests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store keeps digests, their frozen audiences and their progress in Redis.
type Store struct {
	rdb redis.UniversalClient
}

// NewStore returns a Store on the given Redis client.
func NewStore(rdb redis.UniversalClient) *Store { return &Store{rdb: rdb} }

// createScript stores a new digest, freezing its audience from the
// newsletter's confirmed set and moving the newsletter's cutoff, unless it
// is a test digest. It returns the number of recipients and the cutoff it
// replaced (empty for none, and for a test digest).
//
// KEYS: digest hash, audience, confirmed audience (bitmaps), cutoff, digests index.
// ARGV: meta JSON, "1" for a test digest, test recipient count, cutoff ms, created ms, id.
var createScript = redis.NewScript(`
local total, prev
if ARGV[2] == '1' then
  total, prev = tonumber(ARGV[3]), ''
else
  redis.call('BITOP', 'OR', KEYS[2], KEYS[3])
  total = redis.call('BITCOUNT', KEYS[2])
  prev = redis.call('GET', KEYS[4]) or ''
  redis.call('SET', KEYS[4], ARGV[4])
end
redis.call('HSET', KEYS[1], 'meta', ARGV[1], 'status', 'queued', 'total', total, 'failed', 0, 'skipped', 0)
redis.call('ZADD', KEYS[5], ARGV[5], ARGV[6])
return {total, prev}
`)

// create stores d and returns its number of recipients and the cutoff, in
// unix ms, that it replaced ("" for none).
func (s *Store) create(ctx context.Context, d *Digest, confirmedKey string) (total int64, prevCutoff string, err error) {
	raw, err := json.Marshal(d)
	if err != nil {
		return 0, "", err
	}
	test := "0"
	if d.IsTest() {
		test = "1"
	}
	keys := []string{keyDigest(d.ID), keyAudience(d.ID), confirmedKey, keyCutoff(d.Newsletter), keyDigests(d.Newsletter)}
	res, err := createScript.Run(ctx, s.rdb, keys, raw, test, len(d.TestRecipients),
		d.Cutoff.UnixMilli(), d.CreatedAt.UnixMilli(), d.ID).Slice()
	if err != nil {
		return 0, "", err
	}
	total, _ = res[0].(int64)
	prevCutoff, _ = res[1].(string)
	return total, prevCutoff, nil
}

// restoreCutoffScript puts a newsletter's cutoff back to ARGV[2] (removes
// it when ARGV[2] is empty) if it still is ARGV[1].
//
// KEYS: cutoff. ARGV: cutoff ms to replace, cutoff ms to restore or empty.
var restoreCutoffScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
if ARGV[2] == '' then redis.call('DEL', KEYS[1]) else redis.call('SET', KEYS[1], ARGV[2]) end
return 1
`)

// restoreCutoff puts newsletter nl's cutoff back to prev, unless a later
// digest has moved it from cut since.
func (s *Store) restoreCutoff(ctx context.Context, nl string, cut time.Time, prev string) error {
	return restoreCutoffScript.Run(ctx, s.rdb, []string{keyCutoff(nl)}, cut.UnixMilli(), prev).Err()
}

// Get returns digest id with its current status and counts, or nil.
func (s *Store) Get(ctx context.Context, id string) (*Digest, error) {
	var hash *redis.MapStringStringCmd
	var done *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { // one moment for both
		hash, done = p.HGetAll(ctx, keyDigest(id)), p.BitCount(ctx, keyDone(id), nil)
		return nil
	})
	h := hash.Val()
	if err != nil || len(h) == 0 {
		return nil, err
	}
	var d Digest
	if err := json.Unmarshal([]byte(h["meta"]), &d); err != nil {
		return nil, fmt.Errorf("digests: decode %s: %w", id, err)
	}
	d.Status = Status(h["status"])
	d.Counts = Counts{Total: atoi(h["total"]), Failed: atoi(h["failed"]), Skipped: atoi(h["skipped"])}
	d.Counts.Sent = done.Val() - d.Counts.Failed - d.Counts.Skipped
	if ms := atoi(h["finished_at"]); ms > 0 {
		t := time.UnixMilli(ms).UTC()
		d.FinishedAt = &t
	}
	if msg := h["last_error"]; msg != "" {
		d.LastError = &Problem{Message: msg, At: time.UnixMilli(atoi(h["last_error_at"])).UTC()}
	}
	return &d, nil
}

// maxProblemLen caps a stored error message: a server's reply can be long.
const maxProblemLen = 500

// NoteProblem keeps err as digest id's last error, at now, for editors to
// see while it is retried; a digest that does not exist is left alone.
func (s *Store) NoteProblem(ctx context.Context, id string, err error, now time.Time) error {
	msg := strings.Join(strings.Fields(err.Error()), " ")
	if len(msg) > maxProblemLen {
		msg = strings.ToValidUTF8(msg[:maxProblemLen], "") + "…"
	}
	return noteProblemScript.Run(ctx, s.rdb, []string{keyDigest(id)}, msg, now.UnixMilli()).Err()
}

// noteProblemScript sets the last error of an existing digest (KEYS[1]).
var noteProblemScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'last_error', ARGV[1], 'last_error_at', ARGV[2])
end
return 0
`)

// Status returns digest id's status alone, cheaply.
func (s *Store) Status(ctx context.Context, id string) (Status, error) {
	st, err := s.rdb.HGet(ctx, keyDigest(id), "status").Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return Status(st), err
}

// cutoff returns the time up to which newsletter nl's articles went out, or
// the zero time before its first digest.
func (s *Store) cutoff(ctx context.Context, nl string) (time.Time, error) {
	ms, err := s.rdb.Get(ctx, keyCutoff(nl)).Int64()
	if errors.Is(err, redis.Nil) {
		return time.Time{}, nil
	}
	return time.UnixMilli(ms).UTC(), err
}

// claimIdempotencyKey binds key to digest id for 24 hours and returns the
// id already bound to it, if another request got there first.
func (s *Store) claimIdempotencyKey(ctx context.Context, nl, key, id string) (string, error) {
	k := keyIdempotency(nl, key)
	ok, err := s.rdb.SetNX(ctx, k, id, idempotencyTTLHours*time.Hour).Result()
	if err != nil || ok {
		return "", err
	}
	return s.rdb.Get(ctx, k).Result()
}

// idempotent returns the digest id bound to key, or "" if none is.
func (s *Store) idempotent(ctx context.Context, nl, key string) (string, error) {
	id, err := s.rdb.Get(ctx, keyIdempotency(nl, key)).Result()
	if errors.Is(err, redis.Nil) {
		return "", nil
	}
	return id, err
}

// releaseIdempotencyKey forgets key, when creating its digest failed.
func (s *Store) releaseIdempotencyKey(ctx context.Context, nl, key string) error {
	return s.rdb.Del(ctx, keyIdempotency(nl, key)).Err()
}

// claimSlot marks a scheduled slot handled and reports whether this call
// was the first to do so.
func (s *Store) claimSlot(ctx context.Context, nl string, slot time.Time) (bool, error) {
	return s.rdb.SetNX(ctx, keySlot(nl, slot.Unix()), 1, 7*24*time.Hour).Result()
}

// releaseSlot forgets that a slot was handled, when handling it failed.
func (s *Store) releaseSlot(ctx context.Context, nl string, slot time.Time) error {
	return s.rdb.Del(ctx, keySlot(nl, slot.Unix())).Err()
}

func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// Unfinished returns newsletter nl's digests that are queued or sending,
// among its latest ten.
func (s *Store) Unfinished(ctx context.Context, nl string) ([]*Digest, error) {
	ids, err := s.rdb.ZRevRange(ctx, keyDigests(nl), 0, 9).Result()
	if err != nil {
		return nil, err
	}
	var out []*Digest
	for _, id := range ids {
		d, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if d != nil && !d.Status.Finished() {
			out = append(out, d)
		}
	}
	return out, nil
}
