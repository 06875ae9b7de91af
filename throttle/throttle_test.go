package throttle_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"newsletter/internal/redistest"
	"newsletter/throttle"
)

// testDB is this package's Redis database.
const testDB = 7

func TestSendRateHoldsAcrossClients(t *testing.T) {
	rdb := redistest.MustClient(t, testDB)
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
	rdb := redistest.MustClient(t, testDB)
	s := throttle.NewSend(rdb, 0)
	for range 1000 {
		if err := s.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.Exists(context.Background(), "nl:throttle:send").Val(); n != 0 {
		t.Fatalf("an unlimited rate stored state (%d keys)", n)
	}
}

func TestSlowDownSlowsEveryone(t *testing.T) {
	rdb := redistest.MustClient(t, testDB)
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
	rdb := redistest.MustClient(t, testDB)
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
	rdb := redistest.MustClient(t, testDB)
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
