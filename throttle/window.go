package throttle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Window allows at most Rate.N events in any span of Rate.Per per key: a
// sliding window kept as a sorted set of event times. Unlike the send rate
// it takes the time from the caller, so tests can run a simulated clock.
type Window struct {
	rdb    redis.UniversalClient
	prefix string
	rate   Rate
}

// NewWindow returns a sliding-window limit whose keys start with prefix.
func NewWindow(rdb redis.UniversalClient, prefix string, r Rate) *Window {
	return &Window{rdb: rdb, prefix: prefix, rate: r}
}

// luaWindow defines allow(key, now, window, limit, member) for scripts: it
// counts the events of the last window at key and adds one when there is
// room. It returns 0 when allowed, else the milliseconds until the oldest
// event leaves the window.
const luaWindow = `
local function allow(key, now, window, limit, member)
  now, window, limit = tonumber(now), tonumber(window), tonumber(limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= limit then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    return math.max(tonumber(oldest[2]) + window - now, 1)
  end
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
  return 0
end
`

// LuaRoom defines, for scripts that must check several windows before they
// take from any: room(key, now, window, limit), 0 when the window at key
// has room for an event at now, else the milliseconds until it has; and
// take_event(key, now, window, member), which records one.
const LuaRoom = `
local function room(key, now, window, limit)
  now, window, limit = tonumber(now), tonumber(window), tonumber(limit)
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) < limit then return 0 end
  local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
  return math.max(tonumber(oldest[2]) + window - now, 1)
end
local function take_event(key, now, window, member)
  redis.call('ZADD', key, now, member)
  redis.call('PEXPIRE', key, window)
end
`

// LuaAllow defines allow(key, now, window, limit, member) for the scripts of
// other packages that take events from windows in the same round trip as
// other work; Spec gives its arguments. allow returns 0 when the event is
// allowed (and taken), else the milliseconds until it would be.
const LuaAllow = luaWindow

// Spec returns what allow needs to take an event for key: the full key,
// the window in milliseconds and the limit. ok is false for a nil or
// unlimited window, which allows everything.
func (w *Window) Spec(key string) (fullKey string, windowMs int64, limit int, ok bool) {
	if w == nil || w.rate.Unlimited() {
		return "", 0, 0, false
	}
	return w.prefix + key, w.rate.Per.Milliseconds(), w.rate.N, true
}

// AllowScript runs allow on KEYS[1], for callers that take an event in a
// pipeline of their own; it returns 0 when allowed, else the milliseconds
// to wait.
//
// ARGV: now ms, window ms, limit, a unique member.
var AllowScript = redis.NewScript(luaWindow + `return allow(KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4])`)

// Member returns a unique member for a window's sorted set: this
// process's random prefix and a counter, so that no two events, of this
// process or another, share one; no system call per event.
func Member() string {
	return memberPrefix + strconv.FormatUint(memberSeq.Add(1), 36)
}

var (
	memberPrefix = func() string {
		var b [8]byte
		rand.Read(b[:])
		return hex.EncodeToString(b[:]) + "."
	}()
	memberSeq atomic.Uint64
)

// Allow takes one event for key at time now, and returns 0 when it is
// allowed, else how long until it would be.
func (w *Window) Allow(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if w.rate.Unlimited() {
		return 0, nil
	}
	ms, err := AllowScript.Run(ctx, w.rdb, []string{w.prefix + key}, now.UnixMilli(),
		w.rate.Per.Milliseconds(), w.rate.N, Member()).Int64()
	return time.Duration(ms) * time.Millisecond, err
}

// waitScript tells how long until KEYS[1]'s window has room for an event,
// taking none: 0 when it has room now.
//
// ARGV: now ms, window ms, limit.
var waitScript = redis.NewScript(`
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
local count = redis.call('ZCOUNT', KEYS[1], '(' .. (now - window), '+inf')
if count < limit then return 0 end
local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. (now - window), '+inf', 'WITHSCORES', 'LIMIT', count - limit, 1)
return math.max(tonumber(oldest[2]) + window - now, 1)
`)

// Wait returns how long key must wait at now before Allow would allow an
// event, without taking one: 0 when it would be allowed now. A caller that
// must refuse a client past its limit before doing any work (checking a
// token, say) asks Wait first.
func (w *Window) Wait(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if w.rate.Unlimited() {
		return 0, nil
	}
	ms, err := waitScript.Run(ctx, w.rdb, []string{w.prefix + key}, now.UnixMilli(), w.rate.Per.Milliseconds(), w.rate.N).Int64()
	return time.Duration(ms) * time.Millisecond, err
}
