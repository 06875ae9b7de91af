package throttle

import (
	"context"
	"crypto/rand"
	"encoding/hex"
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

// windowScript counts the events of the last window at KEYS[1] and adds one
// when there is room. It returns 0 when allowed, else the milliseconds until
// the oldest event leaves the window.
//
// ARGV: now ms, window ms, limit, a unique member.
var windowScript = redis.NewScript(`
local now, window, limit = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
if redis.call('ZCARD', KEYS[1]) >= limit then
  local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return math.max(tonumber(oldest[2]) + window - now, 1)
end
redis.call('ZADD', KEYS[1], now, ARGV[4])
redis.call('PEXPIRE', KEYS[1], window)
return 0
`)

// Allow takes one event for key at time now, and returns 0 when it is
// allowed, else how long until it would be.
func (w *Window) Allow(ctx context.Context, key string, now time.Time) (time.Duration, error) {
	if w.rate.Unlimited() {
		return 0, nil
	}
	var b [8]byte
	rand.Read(b[:])
	ms, err := windowScript.Run(ctx, w.rdb, []string{w.prefix + key}, now.UnixMilli(),
		w.rate.Per.Milliseconds(), w.rate.N, hex.EncodeToString(b[:])).Int64()
	return time.Duration(ms) * time.Millisecond, err
}
