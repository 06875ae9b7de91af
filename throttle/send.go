package throttle

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keys of the send controls, shared by every worker process. Each command
// and script here touches one key, so they may live in different hash
// slots of a Redis Cluster.
const (
	keySendRate   = "nl:{nl}:throttle:send"          // GCRA state of the global send rate
	keySlowDown   = "nl:{nl}:throttle:send:slowdown" // present while receivers asked to slow down
	keyPolicy     = "nl:{nl}:throttle:send:policy"   // policy refusals in the current window
	keySendPaused = "nl:{nl}:throttle:send:paused"   // present while sending is paused
)

// Send controls the pace of digest sending for all workers together.
type Send struct {
	rdb  redis.UniversalClient
	rate Rate
	// SlowFactor divides the rate while receivers ask to slow down.
	SlowFactor int
	// SlowRate is the pace while slowed down when no rate is set.
	SlowRate Rate
	// PolicyLimit is how many policy refusals in PolicyWindow pause sending
	// for PauseFor.
	PolicyLimit  int
	PolicyWindow time.Duration
	PauseFor     time.Duration

	// The state of the slow-down and pause keys, read at most every
	// stateTTL rather than once per message.
	mu        sync.Mutex
	stateAt   time.Time
	stateKeys int64
}

// stateTTL is how long a worker trusts what it last read of the slow-down
// and pause keys.
const stateTTL = 250 * time.Millisecond

// NewSend returns the send controls with perSecond messages a second across
// all workers (0: unlimited) and the default reactions to push-back.
func NewSend(rdb redis.UniversalClient, perSecond int) *Send {
	return &Send{rdb: rdb, rate: Rate{N: perSecond, Per: time.Second}, SlowFactor: 4,
		SlowRate: Rate{N: 20, Per: time.Second}, PolicyLimit: 20, PolicyWindow: 10 * time.Minute, PauseFor: 15 * time.Minute}
}

// ErrPaused is returned by Wait while sending is paused.
var ErrPaused = errors.New("throttle: sending is paused after too many policy refusals")

// Wait blocks until one more message may be sent, or returns ErrPaused
// while sending is paused, or ctx's error.
func (s *Send) Wait(ctx context.Context) error {
	for {
		rate, err := s.currentRate(ctx)
		if err != nil {
			return err
		}
		wait, err := take(ctx, s.rdb, keySendRate, rate, 1)
		if err != nil || wait == 0 {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// currentRate is the configured rate, slowed down while receivers push back;
// it fails with ErrPaused while sending is paused.
func (s *Send) currentRate(ctx context.Context) (Rate, error) {
	n, err := s.pushBack(ctx)
	if err != nil || n == 0 {
		return s.rate, err
	}
	paused, err := s.paused(ctx)
	if err != nil {
		return Rate{}, err
	}
	if paused {
		return Rate{}, ErrPaused
	}
	if s.rate.Unlimited() {
		return s.SlowRate, nil
	}
	return Rate{N: max(s.rate.N/s.SlowFactor, 1), Per: s.rate.Per}, nil
}

// pushBack returns how many of the slow-down and pause keys exist, reading
// Redis at most every stateTTL. It asks for each key on its own (in one
// pipeline), as one EXISTS of both would fail on a Redis Cluster when they
// are in different slots.
func (s *Send) pushBack(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.stateAt) < stateTTL {
		return s.stateKeys, nil
	}
	var slow, paused *redis.IntCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		slow, paused = p.Exists(ctx, keySlowDown), p.Exists(ctx, keySendPaused)
		return nil
	}); err != nil {
		return 0, err
	}
	n := slow.Val() + paused.Val()
	s.stateAt, s.stateKeys = time.Now(), n
	return n, nil
}

// forget makes the next Wait read the push-back keys again.
func (s *Send) forget() {
	s.mu.Lock()
	s.stateAt = time.Time{}
	s.mu.Unlock()
}

// paused reports whether sending is paused, reading Redis now. A failure
// to read is an error, never "not paused".
func (s *Send) paused(ctx context.Context) (bool, error) {
	n, err := s.rdb.Exists(ctx, keySendPaused).Result()
	return n == 1, err
}

// errNoExpiry refuses durations that would store a key that never expires.
func errNoExpiry(what string, d time.Duration) error {
	return fmt.Errorf("throttle: %s %s: want at least a millisecond, or the key would never expire", what, d)
}

// SlowDown slows every worker's sending for d, because a receiver asked to
// (SMTP 421, 454 or 4.7.x). The key is written with its expiry, in one SET.
func (s *Send) SlowDown(ctx context.Context, d time.Duration) error {
	if d < time.Millisecond {
		return errNoExpiry("slow down for", d)
	}
	defer s.forget()
	return s.rdb.Set(ctx, keySlowDown, 1, d).Err()
}

// countScript adds one to the count at KEYS[1] and makes it expire in
// ARGV[1] milliseconds when it has no expiry: when this call created it,
// or when an earlier version left it without one. The window runs from the
// first refusal, as before; later ones do not extend it. It returns the
// count. It touches KEYS[1] only.
var countScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if redis.call('PTTL', KEYS[1]) == -1 then
  redis.call('PEXPIRE', KEYS[1], ARGV[1])
end
return n
`)

// PolicyRefusal counts one 5.7.x refusal and reports whether sending is now
// paused because such refusals passed the limit. The count expires
// PolicyWindow after the first refusal it holds; the pause after PauseFor.
// A Redis error is returned as it is: the refusal may not be counted, and
// at the limit the pause may not be set.
func (s *Send) PolicyRefusal(ctx context.Context) (bool, error) {
	if s.PolicyWindow < time.Millisecond {
		return false, errNoExpiry("policy window", s.PolicyWindow)
	}
	if s.PauseFor < time.Millisecond {
		return false, errNoExpiry("pause for", s.PauseFor)
	}
	n, err := countScript.Run(ctx, s.rdb, []string{keyPolicy}, s.PolicyWindow.Milliseconds()).Int64()
	if err != nil {
		return false, err
	}
	if n < int64(s.PolicyLimit) {
		return false, nil
	}
	defer s.forget()
	// Two single-key commands rather than one MULTI, which Redis Cluster
	// refuses across slots: the pause first, written with its expiry in
	// one SET, so that should the DEL fail, sending is paused all the same
	// and the count still expires at the end of its window.
	if err := s.rdb.Set(ctx, keySendPaused, 1, s.PauseFor).Err(); err != nil {
		return false, err
	}
	return true, s.rdb.Del(ctx, keyPolicy).Err()
}

// Resume lifts a pause at once, for an operator who fixed the cause.
func (s *Send) Resume(ctx context.Context) error {
	defer s.forget()
	return s.rdb.Del(ctx, keySendPaused).Err()
}
