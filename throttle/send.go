package throttle

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// Keys of the send controls, shared by every worker process.
const (
	keySendRate   = "nl:throttle:send"          // GCRA state of the global send rate
	keySlowDown   = "nl:throttle:send:slowdown" // present while receivers asked to slow down
	keyPolicy     = "nl:throttle:send:policy"   // policy refusals in the current window
	keySendPaused = "nl:throttle:send:paused"   // present while sending is paused
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
	if s.paused(ctx) {
		return Rate{}, ErrPaused
	}
	if s.rate.Unlimited() {
		return s.SlowRate, nil
	}
	return Rate{N: max(s.rate.N/s.SlowFactor, 1), Per: s.rate.Per}, nil
}

// pushBack returns how many of the slow-down and pause keys exist, reading
// Redis at most every stateTTL.
func (s *Send) pushBack(ctx context.Context) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if time.Since(s.stateAt) < stateTTL {
		return s.stateKeys, nil
	}
	n, err := s.rdb.Exists(ctx, keySlowDown, keySendPaused).Result()
	if err != nil {
		return 0, err
	}
	s.stateAt, s.stateKeys = time.Now(), n
	return n, nil
}

// forget makes the next Wait read the push-back keys again.
func (s *Send) forget() {
	s.mu.Lock()
	s.stateAt = time.Time{}
	s.mu.Unlock()
}

func (s *Send) paused(ctx context.Context) bool {
	n, _ := s.rdb.Exists(ctx, keySendPaused).Result()
	return n == 1
}

// SlowDown slows every worker's sending for d, because a receiver asked to
// (SMTP 421, 454 or 4.7.x).
func (s *Send) SlowDown(ctx context.Context, d time.Duration) error {
	defer s.forget()
	return s.rdb.Set(ctx, keySlowDown, 1, d).Err()
}

// PolicyRefusal counts one 5.7.x refusal and reports whether sending is now
// paused because such refusals passed the limit.
func (s *Send) PolicyRefusal(ctx context.Context) (bool, error) {
	n, err := s.rdb.Incr(ctx, keyPolicy).Result()
	if err != nil {
		return false, err
	}
	if n == 1 {
		s.rdb.Expire(ctx, keyPolicy, s.PolicyWindow)
	}
	if n < int64(s.PolicyLimit) {
		return false, nil
	}
	defer s.forget()
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.Set(ctx, keySendPaused, 1, s.PauseFor)
		p.Del(ctx, keyPolicy)
		return nil
	})
	return true, err
}

// Resume lifts a pause at once, for an operator who fixed the cause.
func (s *Send) Resume(ctx context.Context) error {
	defer s.forget()
	return s.rdb.Del(ctx, keySendPaused).Err()
}
