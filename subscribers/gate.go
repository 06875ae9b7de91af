package subscribers

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// The gate takes a signup from the client's limits (its own and its
// network's) and a confirmation email from the site's. Each limit is a
// sliding window kept as a sorted set of events, as throttle.Window keeps
// it, and every window's key is in the {nl} slot. The gates of the
// signups that share a pipeline (groupCommit) run as one gateScript call,
// so that a busy site pays one script per round trip instead of a few
// commands per window and signup. For each signup in turn the script
// takes an event from every client window when all have room, and none
// when one is full (the client waits until it has room); then, when the
// client passed, one from the site's window when it has room (when it has
// not, the signup goes on but sends no email). Nothing is ever taken from
// a full window, so no limit is exceeded and nothing has to be given back,
// but the site's event when no email went out after all.

// gateScript runs the gates of a group of signups.
//
// KEYS: the windows' keys, each once. ARGV, for each signup: now in
// milliseconds, the number of client windows n, then key position (from
// 1), window ms, limit and member for each of the n client windows and for
// the site's (key position 0: none).
//
// It returns, for each signup, the milliseconds the client must wait (0:
// it passed) and 1 when the site's event was taken, else 0.
//
// A window is trimmed and counted once, at the first signup that uses it,
// and the events taken are added at the end, one ZADD per window.
var gateScript = redis.NewScript(`
local count, oldest, adds, span = {}, {}, {}, {}
local function used(k, now, window)
  if not count[k] then
    redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', now - window)
    count[k], adds[k], span[k] = redis.call('ZCARD', KEYS[k]), {}, window
  end
  return count[k]
end
local function wait_for(k, now, window)
  if not oldest[k] then
    local o = redis.call('ZRANGE', KEYS[k], 0, 0, 'WITHSCORES')
    oldest[k] = tonumber(o[2]) or adds[k][1] or now
  end
  return math.max(oldest[k] + window - now, 1)
end
local function take(k, now, member)
  count[k] = count[k] + 1
  local a = adds[k]
  a[#a + 1], a[#a + 2] = now, member
end
local out, i = {}, 1
while i <= #ARGV do
  local now, n = tonumber(ARGV[i]), tonumber(ARGV[i + 1])
  i = i + 2
  local wait, site = 0, 0
  for j = i, i + (n - 1) * 4, 4 do
    local k, window = tonumber(ARGV[j]), tonumber(ARGV[j + 1])
    if used(k, now, window) >= tonumber(ARGV[j + 2]) then wait = math.max(wait, wait_for(k, now, window)) end
  end
  if wait == 0 then
    for j = i, i + (n - 1) * 4, 4 do take(tonumber(ARGV[j]), now, ARGV[j + 3]) end
  end
  i = i + n * 4
  local k = tonumber(ARGV[i])
  if wait == 0 and k > 0 and used(k, now, tonumber(ARGV[i + 1])) < tonumber(ARGV[i + 2]) then
    take(k, now, ARGV[i + 3])
    site = 1
  end
  i = i + 4
  out[#out + 1], out[#out + 2] = wait, site
end
for k, a in pairs(adds) do
  if #a > 0 then
    redis.call('ZADD', KEYS[k], unpack(a))
    redis.call('PEXPIRE', KEYS[k], span[k])
  end
end
return out
`)

// gateRequest is one signup's gate: the windows it takes from at nowMs,
// and, once its group's script answered, what it found.
type gateRequest struct {
	nowMs  int64
	limits signupLimits // client and site; the address's are signupScript's

	wait      time.Duration // > 0: a client window is full, and nothing was taken
	siteTaken bool          // the site's event was taken
	err       error
}

// gateBatch is the gates of the signups of one group whose windows share
// a hash tag, laid out as gateScript's keys and arguments.
type gateBatch struct {
	tag  string
	reqs []*gateRequest
	keys []string
	args []any
	pos  map[string]int // key → its position in keys, from 1
}

// errGateSlots fails a signup whose windows' keys have different hash
// tags: its windows could not be taken in one step on a cluster.
var errGateSlots = errors.New("subscribers: the signup limits' keys must share one hash tag")

// gateBatches sorts the gates of a group into batches, one per hash tag
// (every window's key is in {nl}: one in practice). A request whose keys
// have different tags fails with errGateSlots and is left out.
func gateBatches(group []*groupItem) []*gateBatch {
	var out []*gateBatch
	for _, it := range group {
		r := it.gate
		if r == nil {
			continue
		}
		tag, ok := r.tag()
		if !ok {
			r.err = errGateSlots
			continue
		}
		var b *gateBatch
		for _, x := range out {
			if x.tag == tag {
				b = x
				break
			}
		}
		if b == nil {
			b = &gateBatch{tag: tag}
			out = append(out, b)
		}
		b.add(r)
	}
	return out
}

// tag returns the hash tag the keys of r's windows share, and false when
// they do not share one.
func (r *gateRequest) tag() (string, bool) {
	var tag string
	same := func(w *windowArgs) bool {
		if w == nil {
			return true
		}
		t := hashTag(w.key)
		if tag == "" {
			tag = t
		}
		return t == tag
	}
	for _, w := range r.limits.client {
		if !same(w) {
			return "", false
		}
	}
	return tag, same(r.limits.site)
}

// hashTag is the part of key that Redis Cluster hashes: between the first
// "{" and the next "}", when that is not empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}

// add adds r to the batch.
func (b *gateBatch) add(r *gateRequest) { b.reqs = append(b.reqs, r) }

// layout lays out the batch's requests, oldest first: the script counts a
// window once, at the time of the first request that takes from it, so
// it counts no event that has left that request's window, and the later
// ones at most a few milliseconds' worth of events too many, never too
// few.
func (b *gateBatch) layout() {
	slices.SortStableFunc(b.reqs, func(x, y *gateRequest) int { return cmp.Compare(x.nowMs, y.nowMs) })
	b.keys, b.args, b.pos = b.keys[:0], b.args[:0], nil
	for _, r := range b.reqs {
		b.args = append(b.args, r.nowMs, len(r.limits.client))
		for _, w := range r.limits.client {
			b.args = append(b.args, b.keyPos(w.key), w.window, w.limit, w.member)
		}
		if w := r.limits.site; w != nil {
			b.args = append(b.args, b.keyPos(w.key), w.window, w.limit, w.member)
		} else {
			b.args = append(b.args, 0, 0, 0, "")
		}
	}
}

// keyPos returns key's position in the batch's keys, adding it if new.
func (b *gateBatch) keyPos(key string) int {
	if p, ok := b.pos[key]; ok {
		return p
	}
	if b.pos == nil {
		b.pos = make(map[string]int, 4)
	}
	b.keys = append(b.keys, key)
	b.pos[key] = len(b.keys)
	return len(b.keys)
}

// queue lays the batch out and queues its script on p.
func (b *gateBatch) queue(p redis.Pipeliner) *redis.Cmd {
	b.layout()
	return gateScript.EvalSha(context.Background(), p, b.keys, b.args...)
}

// settle hands each request its result from the script's answer cmd,
// running the script again with its text when Redis lost it (a restart).
// When the script failed for the batch, each request's gate runs again
// alone, so that one bad window fails only its own signup.
func (b *gateBatch) settle(rdb redis.UniversalClient, cmd *redis.Cmd) {
	if redis.HasErrorPrefix(cmd.Err(), "NOSCRIPT") {
		cmd = gateScript.Run(context.Background(), rdb, b.keys, b.args...)
	}
	vals, err := cmd.Int64Slice()
	if err == nil && len(vals) != 2*len(b.reqs) {
		err = errors.New("subscribers: the gate answered " + strconv.Itoa(len(vals)) + " values for " + strconv.Itoa(len(b.reqs)) + " signups")
	}
	if err != nil && len(b.reqs) > 1 {
		for _, r := range b.reqs {
			alone := &gateBatch{tag: b.tag, reqs: []*gateRequest{r}}
			alone.layout()
			alone.settle(rdb, gateScript.Run(context.Background(), rdb, alone.keys, alone.args...))
		}
		return
	}
	for i, r := range b.reqs {
		if err != nil {
			r.err = err
			continue
		}
		r.wait, r.siteTaken = time.Duration(vals[2*i])*time.Millisecond, vals[2*i+1] == 1
	}
}

// signupGate takes the signup from the client's limits and a confirmation
// email from the site's (the gate), and reserves the next block of ids in
// partition part when this process runs low there, in one round trip
// shared with other signups; with no gate to take and ids enough it makes
// none. It returns an id reserved for the address, as if it were new
// (newAddressScript finds out whether it is), how long the client must wait
// (then nothing was taken and the id is back in the pool), and whether the
// site's event was taken.
func (s *Store) signupGate(ctx context.Context, in signupInput, part newsletter.Partition) (id int64, wait time.Duration, siteTaken bool, err error) {
	var gate *gateRequest
	if len(in.limits.client) > 0 || in.limits.site != nil {
		gate = &gateRequest{nowMs: in.now.UnixMilli(), limits: in.limits}
	}
	id, have, reserve := s.ids.next(part)
	if gate != nil || reserve {
		if err := s.gateRoundTrip(ctx, gate, part, reserve); err != nil {
			return s.keepID(part, id, have, 0, err)
		}
	}
	if gate != nil {
		if gate.err != nil || gate.wait > 0 {
			return s.keepID(part, id, have, gate.wait, gate.err)
		}
		siteTaken = gate.siteTaken
	}
	if !have {
		if id, err = s.ids.take(ctx, s.rdb, part); err != nil {
			return 0, 0, false, s.giveBackSite(ctx, in.limits.site, siteTaken, err)
		}
	}
	return id, 0, siteTaken, nil
}

// gateRoundTrip sends gate (unless nil) and, when reserve is set, the
// reservation of partition part's next block of ids, with other signups'
// commands, and adds the block to the pool.
func (s *Store) gateRoundTrip(ctx context.Context, gate *gateRequest, part newsletter.Partition, reserve bool) error {
	var reserved *redis.IntCmd
	var queue func(redis.Pipeliner)
	if reserve {
		queue = func(p redis.Pipeliner) { reserved = p.IncrBy(ctx, keyNext(part), idBlock) }
	}
	err := s.group.do(ctx, gate, queue)
	switch {
	case !reserve:
	case err == nil && reserved.Err() == nil:
		s.ids.add(part, reserved.Val())
	default:
		s.ids.reserveFailed(part)
	}
	return err
}

// keepID puts back the id a signup took from the pool (have) when the
// signup ends at its gate, before any script saw the id, and returns the
// gate's answer: how long the client must wait, or err.
func (s *Store) keepID(part newsletter.Partition, id int64, have bool, wait time.Duration, err error) (int64, time.Duration, bool, error) {
	if have {
		s.ids.giveBack(part, id)
	}
	return 0, wait, false, err
}
