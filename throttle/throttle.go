// Package throttle owns the limits the service keeps across all its
// processes, in Redis: the global digest send rate (with its slow-down and
// pause when receivers push back), a GCRA timed by Redis's own clock so
// every process agrees; and, for abuse resistance, sliding windows per
// client or per address, timed by the caller's clock so tests can simulate
// days. Each check is one Lua script call.
package throttle

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"
)

// Rate is a number of events per period; N <= 0 means unlimited.
type Rate struct {
	N   int
	Per time.Duration
}

// Unlimited reports whether r sets no limit.
func (r Rate) Unlimited() bool { return r.N <= 0 || r.Per <= 0 }

// interval is the time one event uses up.
func (r Rate) interval() time.Duration { return r.Per / time.Duration(r.N) }

// gcraScript takes one event from the limit at KEYS[1] (the theoretical
// arrival time, in microseconds of Redis's clock) and returns 0 when it is
// allowed, else how many microseconds to wait.
//
// ARGV: interval µs, burst tolerance µs.
var gcraScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local interval, tolerance = tonumber(ARGV[1]), tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
if now < tat - tolerance then return tat - tolerance - now end
local next = tat + interval
redis.call('SET', KEYS[1], string.format('%d', next), 'PX', math.ceil((next - now) / 1000) + 1000)
return 0
`)

// take asks for one event of rate r, allowing bursts of burst events, under
// key, and returns how long to wait when it is refused (0: allowed).
func take(ctx context.Context, rdb redis.UniversalClient, key string, r Rate, burst int) (time.Duration, error) {
	if r.Unlimited() {
		return 0, nil
	}
	iv := r.interval()
	tolerance := iv * time.Duration(max(burst, 1)-1)
	us, err := gcraScript.Run(ctx, rdb, []string{key}, iv.Microseconds(), tolerance.Microseconds()).Int64()
	return time.Duration(us) * time.Microsecond, err
}
