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
