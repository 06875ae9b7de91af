package digests

import (
	"context"
	"newsletter"
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

// How outcomes are counted, in each partition: each recipient with an
// outcome has its bit set in the partition's done bitmap, so a repeat is a
// no-op and a retried batch never counts twice. The partition's counts hash
// counts failed and skipped outcomes (each when its bit is newly set); sent
// is the rest, BITCOUNT(done) - failed - skipped, so recording a sent
// message, nearly every outcome, is one plain SETBIT. A digest has every
// outcome in once the partitions' BITCOUNTs reach its total; the partitions'
// counts are then copied into the digest's hash, which outlives them.

// countAllScript records many outcomes without looking at the others; a
// batch run finishes the digest once, at its end (see Recorder.Finish).
// It counts each recipient once, sent ones by their bit alone, and returns
// how many outcomes were new.
//
// KEYS: the partition's counts hash, done bitmap. ARGV: bit, outcome, bit,
// outcome...
var countAllScript = redis.NewScript(`
local new, counts = 0, {}
for i = 1, #ARGV, 2 do
  if redis.call('SETBIT', KEYS[2], ARGV[i], 1) == 0 then
    new = new + 1
    if ARGV[i+1] ~= 'sent' then counts[ARGV[i+1]] = (counts[ARGV[i+1]] or 0) + 1 end
  end
end
for o, n in pairs(counts) do redis.call('HINCRBY', KEYS[1], o, n) end
return new
`)

// finishScript makes a sending digest sent, finished at ARGV[1], with the
// counts in ARGV[2..4], once its every outcome is in (the caller checked).
//
// KEYS: digest hash. ARGV: now ms, sent, failed, skipped.
var finishScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], 'status') == 'sending' then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'finished_at', ARGV[1], 'sent', ARGV[2], 'failed', ARGV[3], 'skipped', ARGV[4])
end
return 0
`)

// Recorder records the outcomes of one batch run of digest id, within one
// partition. It holds the outcomes added to it until Flush records them
// all in one call, over a Redis connection of its own, which spares the
// pool's checks on every call. It leaves finishing the digest to Finish,
// once per run.
type Recorder struct {
	store   *Store
	id      string
	keys    []string  // the partition's counts hash, done bitmap
	held    []any     // bit, outcome, bit, outcome...
	flushed time.Time // when Flush last recorded something
	rdb     redis.Cmdable
	client  *redis.Client // gives the connection; nil when the Store's client is not one
	conn    *redis.Conn
}

// Recorder returns a Recorder for digest id's recipients in partition p;
// Close gives its connection back.
func (s *Store) Recorder(id string, p newsletter.Partition) *Recorder {
	r := &Recorder{store: s, id: id, keys: []string{keyCounts(p, id), keyDone(p, id)}, rdb: s.rdb}
	if c, ok := s.rdb.(*redis.Client); ok {
		r.client, r.conn = c, c.Conn()
		r.rdb = r.conn
	}
	return r
}

// Add holds outcome o for the recipient at bit until the next Flush.
func (r *Recorder) Add(bit int64, o Outcome) {
	r.held = append(r.held, bit, string(o))
}

// Held returns how many outcomes wait for Flush and how long before now
// Flush last recorded any (the longest Duration when it never has: Sub
// from the zero Time saturates).
func (r *Recorder) Held(now time.Time) (n int, sinceFlush time.Duration) {
	return len(r.held) / 2, now.Sub(r.flushed)
}

// Flush records every held outcome at now, each recipient counted once
// however often it is recorded, and returns how many were new. On failure
// it holds them still, so that the next Flush tries again. (Redis keeps
// what a script wrote before its error: only data of the wrong type under
// the digest's keys makes the script fail midway, leaving some recipients
// marked done, which counts them as sent, whatever their outcome.)
func (r *Recorder) Flush(ctx context.Context, now time.Time) (int, error) {
	if len(r.held) == 0 {
		return 0, nil
	}
	var n int
	var err error
	if len(r.held) == 2 && r.held[1] == string(Sent) {
		var prev int64
		prev, err = r.rdb.SetBit(ctx, r.keys[1], r.held[0].(int64), 1).Result()
		n = int(1 - prev)
	} else {
		n, err = countAllScript.Run(ctx, r.rdb, r.keys, r.held...).Int()
	}
	r.renewAfter(err)
	if err != nil {
		return 0, err
	}
	clear(r.held) // drop the references the boxed values hold
	r.held, r.flushed = r.held[:0], now
	return n, nil
}

// Finish marks the digest sent if it is sending and every outcome is in.
// A batch run calls it when it ends, after recording what it held,
// whatever else it did, so that a run that stopped between its last
// outcome and Finish is finished by its retry.
func (r *Recorder) Finish(ctx context.Context, now time.Time) error {
	return r.store.finish(ctx, r.id, now)
}

// finish marks digest id sent if it is sending and every outcome is in,
// keeping its counts. Every batch run records its outcomes before it
// looks, so the last of runs ending together sees every outcome.
func (s *Store) finish(ctx context.Context, id string, now time.Time) error {
	c, err := s.progress(ctx, id) // the partitions' totals add up to the digest's
	if err != nil || c.Done() < c.Total {
		return err
	}
	return finishScript.Run(ctx, s.rdb, []string{keyDigest(id)}, now.UnixMilli(), c.Sent, c.Failed, c.Skipped).Err()
}

// renewAfter takes a new connection after a failure: the old one may be
// broken (Redis restarted, say).
func (r *Recorder) renewAfter(err error) {
	if err != nil && r.conn != nil {
		_ = r.conn.Close()
		r.conn = r.client.Conn()
		r.rdb = r.conn
	}
}

// Close gives the connection back to the pool.
func (r *Recorder) Close() error {
	if r.conn == nil {
		return nil
	}
	return r.conn.Close()
}

// transitionScript moves a digest to ARGV[1] if its status is one of the
// rest of ARGV, setting finished_at and the counts for final statuses and,
// for sending, finishing at once a digest whose every outcome is in
// (ARGV[3] is "1"). It returns the status before.
//
// KEYS: digest hash. ARGV: to, now ms, all in, sent, failed, skipped, from...
var transitionScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return '' end
for i = 7, #ARGV do
  if cur == ARGV[i] then
    local to = ARGV[1]
    if to == 'sending' and ARGV[3] == '1' then to = 'sent' end
    redis.call('HSET', KEYS[1], 'status', to)
    if to ~= 'sending' and to ~= 'queued' then
      redis.call('HSET', KEYS[1], 'finished_at', ARGV[2], 'sent', ARGV[4], 'failed', ARGV[5], 'skipped', ARGV[6])
    end
    return cur
  end
end
return cur
`)

// transition moves digest id to status to when it is in one of from, and
// returns the status it had.
func (s *Store) transition(ctx context.Context, id string, to Status, now time.Time, from ...Status) (Status, error) {
	c, err := s.progress(ctx, id) // the partitions' totals add up to the digest's
	if err != nil {
		return "", err
	}
	allIn := "0"
	if c.Done() >= c.Total {
		allIn = "1"
	}
	args := []any{string(to), now.UnixMilli(), allIn, c.Sent, c.Failed, c.Skipped}
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
