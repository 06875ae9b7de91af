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

// luaCount counts outcome ARGV[3] for the recipient at bit ARGV[2] once:
// the bit in the done bitmap makes a repeat a no-op (the script returns 0),
// so a retried batch never counts twice.
const luaCount = `
if redis.call('SETBIT', KEYS[2], ARGV[2], 1) == 1 then return 0 end
redis.call('HINCRBY', KEYS[1], ARGV[3], 1)
`

// luaFinish makes a sending digest whose every outcome is in sent,
// finished at ARGV[1].
const luaFinish = `
local h = redis.call('HMGET', KEYS[1], 'status', 'total', 'sent', 'failed', 'skipped')
if h[1] == 'sending' and tonumber(h[3]) + tonumber(h[4]) + tonumber(h[5]) >= tonumber(h[2]) then
  redis.call('HSET', KEYS[1], 'status', 'sent', 'finished_at', ARGV[1])
end
`

// recordScript records one outcome and, when it is the last, finishes the
// digest. It returns 1 when the outcome was new.
//
// KEYS: digest hash, done bitmap. ARGV: now ms, bit, outcome.
var recordScript = redis.NewScript(luaCount + luaFinish + "return 1")

// countScript records one outcome without looking at the others; a batch
// run finishes the digest once, at its end (see Recorder.Finish). It
// returns 1 when the outcome was new.
//
// KEYS: digest hash, done bitmap. ARGV: now ms, bit, outcome.
var countScript = redis.NewScript(luaCount + "return 1")

// finishScript finishes a digest whose every outcome is in.
//
// KEYS: digest hash. ARGV: now ms.
var finishScript = redis.NewScript(luaFinish + "return 0")

// Record notes the outcome for the recipient at bit, finishing the digest
// when it is the last, and reports whether it was new.
func (s *Store) Record(ctx context.Context, id string, bit int64, o Outcome, now time.Time) (bool, error) {
	n, err := recordScript.Run(ctx, s.rdb, []string{keyDigest(id), keyDone(id)}, now.UnixMilli(), bit, string(o)).Int()
	return n == 1, err
}

// Recorder records the outcomes of a batch run, one per message, over a
// Redis connection of its own, which spares the pool's checks on every
// call. It leaves finishing the digest to Finish, once per run.
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

// Record notes the outcome of digest id for the recipient at bit and
// reports whether it was new. It does not finish the digest: call Finish
// when the run ends.
func (r *Recorder) Record(ctx context.Context, id string, bit int64, o Outcome, now time.Time) (bool, error) {
	n, err := countScript.Run(ctx, r.rdb, []string{keyDigest(id), keyDone(id)}, now.UnixMilli(), bit, string(o)).Int()
	r.renewAfter(err)
	return n == 1, err
}

// Finish marks digest id sent if it is sending and every outcome is in.
// A batch run calls it when it ends, whatever it did, so that a run that
// stopped between its last outcome and Finish is finished by its retry.
func (r *Recorder) Finish(ctx context.Context, id string, now time.Time) error {
	err := finishScript.Run(ctx, r.rdb, []string{keyDigest(id)}, now.UnixMilli()).Err()
	r.renewAfter(err)
	return err
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
