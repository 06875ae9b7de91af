package throttle_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/internal/redistest"
	"newsletter/throttle"
)

func TestSendRateHoldsAcrossClients(t *testing.T) {
	rdb := redistest.Client(t)
	const perSecond, each = 100, 100
	start := time.Now()
	var wg sync.WaitGroup
	for range 2 { // two "workers", each with its own controls
		s := throttle.NewSend(rdb, perSecond)
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				if err := s.Wait(context.Background()); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	// 200 events at 100/s: the first goes at once, the last 1.99 s later.
	if elapsed := time.Since(start); elapsed < 1900*time.Millisecond {
		t.Fatalf("200 sends at %d/s took %s, want at least 1.9s", perSecond, elapsed)
	}
}

func TestSendUnlimitedDoesNotWait(t *testing.T) {
	rdb := redistest.Client(t)
	s := throttle.NewSend(rdb, 0)
	for range 1000 {
		if err := s.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.Exists(context.Background(), "nl:{nl}:throttle:send").Val(); n != 0 {
		t.Fatalf("an unlimited rate stored state (%d keys)", n)
	}
}

func TestSlowDownSlowsEveryone(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	s := throttle.NewSend(rdb, 0)
	s.SlowRate = throttle.Rate{N: 50, Per: time.Second}
	if err := throttle.NewSend(rdb, 0).SlowDown(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for range 26 {
		if err := s.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if elapsed := time.Since(start); elapsed < 450*time.Millisecond {
		t.Fatalf("26 sends while slowed to 50/s took %s, want at least 0.45s", elapsed)
	}
}

func TestPolicyRefusalsPauseSending(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	s := throttle.NewSend(rdb, 0)
	s.PolicyLimit = 3
	for i := 1; i <= 3; i++ {
		paused, err := s.PolicyRefusal(ctx)
		if err != nil || paused != (i == 3) {
			t.Fatalf("refusal %d: paused %v, %v", i, paused, err)
		}
	}
	if err := s.Wait(ctx); !errors.Is(err, throttle.ErrPaused) {
		t.Fatalf("Wait while paused = %v, want ErrPaused", err)
	}
	if err := s.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(ctx); err != nil {
		t.Fatalf("Wait after Resume = %v", err)
	}
}

func TestWindowCountsAnySpan(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	w := throttle.NewWindow(rdb, "nl:test:", throttle.Rate{N: 5, Per: 24 * time.Hour})
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for i := range 5 {
		if wait, err := w.Allow(ctx, "a", now.Add(time.Duration(i)*time.Hour)); err != nil || wait != 0 {
			t.Fatalf("event %d: wait %s, %v", i, wait, err)
		}
	}
	wait, err := w.Allow(ctx, "a", now.Add(23*time.Hour))
	if err != nil || wait != time.Hour {
		t.Fatalf("sixth event in the day: wait %s, %v; want 1h until the first leaves", wait, err)
	}
	if wait, _ := w.Allow(ctx, "b", now); wait != 0 {
		t.Fatalf("another key waits %s", wait)
	}
	if wait, _ := w.Allow(ctx, "a", now.Add(24*time.Hour+time.Millisecond)); wait != 0 {
		t.Fatalf("after the first left the window: wait %s", wait)
	}
}

// TestWindowWaitTakesNothing: Wait tells what Allow would, without taking
// an event, however often it is asked.
func TestWindowWaitTakesNothing(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	w := throttle.NewWindow(rdb, "nl:test:", throttle.Rate{N: 3, Per: time.Hour})
	now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
	for i := range 3 {
		for range 5 {
			if wait, err := w.Wait(ctx, "a", now); err != nil || wait != 0 {
				t.Fatalf("Wait before event %d: %s, %v; want 0", i, wait, err)
			}
		}
		if wait, err := w.Allow(ctx, "a", now.Add(time.Duration(i)*time.Minute)); err != nil || wait != 0 {
			t.Fatalf("event %d: wait %s, %v", i, wait, err)
		}
	}
	at := now.Add(10 * time.Minute)
	for range 5 {
		if wait, err := w.Wait(ctx, "a", at); err != nil || wait != 50*time.Minute {
			t.Fatalf("Wait past the limit: %s, %v; want 50m until the first leaves", wait, err)
		}
	}
	if wait, _ := w.Allow(ctx, "a", at); wait != 50*time.Minute {
		t.Fatalf("Allow past the limit waits %s, want 50m (Wait took events?)", wait)
	}
	if wait, _ := w.Wait(ctx, "a", now.Add(time.Hour+time.Millisecond)); wait != 0 {
		t.Fatalf("after the first left the window: Wait %s", wait)
	}
}

// TestWindowsMatchChainedWindows checks Windows, the windows of a key kept
// as one record, against the same rates as separate Windows taken in turn
// until one refuses, over random event times.
func TestWindowsMatchChainedWindows(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	for _, rates := range [][]throttle.Rate{
		{{N: 1, Per: 10 * time.Minute}, {N: 5, Per: 24 * time.Hour}},
		{{N: 2, Per: time.Minute}, {N: 3, Per: 5 * time.Minute}, {N: 10, Per: time.Hour}},
	} {
		prefix := fmt.Sprintf("nl:test:windows:%d:", len(rates))
		ws := throttle.NewWindows(rdb, prefix+"each:", rates...)
		chain := make([]*throttle.Window, len(rates))
		for i, r := range rates {
			chain[i] = throttle.NewWindow(rdb, fmt.Sprintf("%schain%d:", prefix, i), r)
		}
		rng := rand.New(rand.NewPCG(1, uint64(len(rates))))
		now := time.Date(2026, 11, 28, 12, 0, 0, 0, time.UTC)
		allowed := 0
		for i := range 600 {
			now = now.Add(time.Duration(rng.Int64N(int64(8 * time.Minute))))
			wantWait, wantRefused := time.Duration(0), -1
			for j, w := range chain {
				wait, err := w.Allow(ctx, "k", now)
				if err != nil {
					t.Fatal(err)
				}
				if wait > 0 {
					wantWait, wantRefused = wait, j
					break
				}
			}
			wait, refused, err := ws.Allow(ctx, "k", now)
			if err != nil {
				t.Fatal(err)
			}
			if wait != wantWait || refused != wantRefused {
				t.Fatalf("%v, event %d at %s: Windows says wait %s, refused by %d; chained windows %s, %d",
					rates, i, now.Format(time.TimeOnly), wait, refused, wantWait, wantRefused)
			}
			if refused < 0 {
				allowed++
			}
		}
		if allowed == 0 || allowed == 600 {
			t.Fatalf("%v: %d of 600 events allowed; the test shows nothing", rates, allowed)
		}
		if ttl := rdb.PTTL(ctx, prefix+"each:k").Val(); ttl <= 0 || ttl > rates[len(rates)-1].Per {
			t.Errorf("%v: the record lives %s, want up to the longest window", rates, ttl)
		}
	}
}

// TestWaitFailsWhenRedisFails: a Redis that fails while receivers push back
// must not read as "not paused". With unlimited rates, the pause check is
// Wait's only Redis read once the push-back state is cached.
func TestWaitFailsWhenRedisFails(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	failing := redis.NewClient(redistest.Options(t)) // closed below
	s := throttle.NewSend(failing, 0)
	s.SlowRate = throttle.Rate{} // unlimited: no GCRA call hides the failure
	if err := throttle.NewSend(rdb, 0).SlowDown(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Wait(ctx); err != nil { // reads and caches the push-back state
		t.Fatal(err)
	}
	_ = failing.Close() // every command fails from now on
	if err := s.Wait(ctx); err == nil {
		t.Fatal("Wait with a failing Redis = nil, want the error (it read the pause check's failure as not paused)")
	}
}

// TestPolicyCountExpires: the count of policy refusals always expires
// within PolicyWindow, even one left without expiry by an earlier version.
func TestPolicyCountExpires(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	s := throttle.NewSend(rdb, 0)
	s.PolicyWindow = time.Minute
	if _, err := s.PolicyRefusal(ctx); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, "nl:{nl}:throttle:send:policy").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("after the first refusal the count lives %s, want up to 1m", ttl)
	}
	// A count that lost its expiry (the old code dropped Expire's error).
	if err := rdb.Persist(ctx, "nl:{nl}:throttle:send:policy").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.PolicyRefusal(ctx); err != nil {
		t.Fatal(err)
	}
	if ttl := rdb.PTTL(ctx, "nl:{nl}:throttle:send:policy").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("a count without expiry still lives %s after a refusal, want up to 1m", ttl)
	}
	if n := rdb.Get(ctx, "nl:{nl}:throttle:send:policy").Val(); n != "2" {
		t.Fatalf("count %s, want 2", n)
	}
}

// TestPauseExpires: the pause lasts PauseFor and no longer.
func TestPauseExpires(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	s := throttle.NewSend(rdb, 0)
	s.PolicyLimit, s.PauseFor = 1, time.Minute
	if paused, err := s.PolicyRefusal(ctx); err != nil || !paused {
		t.Fatalf("PolicyRefusal = %v, %v; want paused", paused, err)
	}
	if ttl := rdb.PTTL(ctx, "nl:{nl}:throttle:send:paused").Val(); ttl <= 0 || ttl > time.Minute {
		t.Fatalf("the pause lives %s, want up to 1m", ttl)
	}
	if n := rdb.Exists(ctx, "nl:{nl}:throttle:send:policy").Val(); n != 0 {
		t.Fatal("the count of refusals outlived the pause it caused")
	}
}

// TestPolicyRefusalFailsWhenRedisFails: a count that cannot be taken is an
// error, not "not paused".
func TestPolicyRefusalFailsWhenRedisFails(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	if err := rdb.HSet(ctx, "nl:{nl}:throttle:send:policy", "f", 1).Err(); err != nil { // WRONGTYPE for INCR
		t.Fatal(err)
	}
	if paused, err := throttle.NewSend(rdb, 0).PolicyRefusal(ctx); err == nil || paused {
		t.Fatalf("PolicyRefusal on a broken count = %v, %v; want an error", paused, err)
	}
}

// TestNoEndlessKeys: durations that would store a key without expiry are
// refused.
func TestNoEndlessKeys(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	s := throttle.NewSend(rdb, 0)
	if err := s.SlowDown(ctx, 0); err == nil {
		t.Error("SlowDown(0) = nil, want an error")
	}
	s.PolicyLimit, s.PauseFor = 1, 0
	if _, err := s.PolicyRefusal(ctx); err == nil {
		t.Error("PolicyRefusal with PauseFor 0 = nil, want an error")
	}
	for _, key := range rdb.Keys(ctx, "*").Val() {
		if ttl := rdb.PTTL(ctx, key).Val(); ttl < 0 {
			t.Errorf("%s lives forever", key)
		}
	}
}
