package digests

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Outcome is what happened to one recipient of a digest.
type Outcome string

// The outcomes, named as the counts they add to.
const (
	Sent    Outcome = "sent"
	Failed  Outcome = "failed"
	Skipped Outcome = "skipped"
)

// recordScript records outcomes, each once: the bit in the done bitmap
// makes a repeat a no-op, so a retried batch never counts twice. When the
// last outcome is in, a sending digest becomes sent. It returns how many
// outcomes were new.
//
// KEYS: digest hash, done bitmap. ARGV: now ms, then bit and outcome pairs.
var recordScript = redis.NewScript(`
local counts, n = {}, 0
for i = 2, #ARGV, 2 do
  if redis.call('SETBIT', KEYS[2], ARGV[i], 1) == 0 then
    counts[ARGV[i+1]] = (counts[ARGV[i+1]] or 0) + 1
    n = n + 1
  end
end
if n == 0 then return 0 end
for o, c in pairs(counts) do redis.call('HINCRBY', KEYS[1], o, c) end
local h = redis.call('HMGET', KEYS[1], 'total', 'sent', 'failed', 'skipped', 'status')
if tonumber(h[2]) + tonumber(h[3]) + tonumber(h[4]) >= tonumber(h[1]) and h[5] == 'sending' then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'finished_at', ARGV[1])
end
return n
`)

// Result is the outcome for one recipient, at its bit (the subscriber id,
// or the position of a test recipient).
type Result struct {
	Bit     int64
	Outcome Outcome
}

// Record notes the outcome for the recipient at bit and reports whether it
// was new.
func (s *Store) Record(ctx context.Context, id string, bit int64, o Outcome, now time.Time) (bool, error) {
	n, err := recordAll(ctx, s.rdb, id, []Result{{Bit: bit, Outcome: o}}, now)
	return n == 1, err
}

// Recorder records outcomes over a Redis connection of its own, which
// spares the pool's checks on every call: a batch records once per message.
type Recorder struct {
	rdb    redis.Scripter
	client *redis.Client // gives the connection; nil when the Store's client is not one
	conn   *redis.Conn
}

// Recorder returns a Recorder; Close gives its connection back.
func (s *Store) Recorder() *Recorder {
	r := &Recorder{rdb: s.rdb}
	if c, ok := s.rdb.(*redis.Client); ok {
		r.client, r.conn = c, c.Conn()
		r.rdb = r.conn
	}
	return r
}

// RecordAll notes several outcomes of digest id in one round trip over the
// Recorder's connection, and returns how many were new. After a
// failure the connection may be broken (Redis restarted, say), so the
// next call takes a new one.
func (r *Recorder) RecordAll(ctx context.Context, id string, rs []Result, now time.Time) (int, error) {
	n, err := recordAll(ctx, r.rdb, id, rs, now)
	if err != nil && r.conn != nil {
		_ = r.conn.Close()
		r.conn = r.client.Conn()
		r.rdb = r.conn
	}
	return n, err
}

// Close gives the connection back to the pool.
func (r *Recorder) Close() error {
	if r.conn == nil {
		return nil
	}
	return r.conn.Close()
}

func recordAll(ctx context.Context, rdb redis.Scripter, id string, rs []Result, now time.Time) (int, error) {
	args := make([]any, 1, 1+2*len(rs))
	args[0] = now.UnixMilli()
	for _, r := range rs {
		args = append(args, r.Bit, string(r.Outcome))
	}
	return recordScript.Run(ctx, rdb, []string{keyDigest(id), keyDone(id)}, args...).Int()
}

// transitionScript moves a digest to ARGV[1] if its status is one of the
// rest of ARGV, setting finished_at for final statuses and, for sending,
// finishing at once a digest whose every outcome is in. It returns the
// status before.
//
// KEYS: digest hash. ARGV: to, now ms, from...
var transitionScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return '' end
for i = 3, #ARGV do
  if cur == ARGV[i] then
    local to = ARGV[1]
    if to == 'sending' then
      local h = redis.call('HMGET', KEYS[1], 'total', 'sent', 'failed', 'skipped')
      if tonumber(h[2]) + tonumber(h[3]) + tonumber(h[4]) >= tonumber(h[1]) then to = 'sent' end
    end
    redis.call('HSET', KEYS[1], 'status', to)
    if to ~= 'sending' and to ~= 'queued' then redis.call('HSET', KEYS[1], 'finished_at', ARGV[2]) end
    return cur
  end
end
return cur
`)

// transition moves digest id to status to when it is in one of from, and
// returns the status it had.
func (s *Store) transition(ctx context.Context, id string, to Status, now time.Time, from ...Status) (Status, error) {
	args := []any{string(to), now.UnixMilli()}
	for _, f := range from {
		args = append(args, string(f))
	}
	prev, err := transitionScript.Run(ctx, s.rdb, []string{keyDigest(id)}, args...).Text()
	return Status(prev), err
}

// StartSending marks a queued digest as sending (or sent at once when it
// has no recipients left) and returns its status before.
func (s *Store) StartSending(ctx context.Context, id string, now time.Time) (Status, error) {
	return s.transition(ctx, id, StatusSending, now, StatusQueued, StatusSending)
}

// Fail marks a digest that could not be sent at all as failed.
func (s *Store) Fail(ctx context.Context, id string, now time.Time) error {
	_, err := s.transition(ctx, id, StatusFailed, now, StatusQueued, StatusSending)
	return err
}
