package subscribers_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"newsletter/subscribers"
	"newsletter/throttle"
)

// TestClientLimitHoldsUnderConcurrency sends 40 signups at once from one
// client whose limit is 5 an hour, then more one by one: no more than 5
// pass in all (the gate counts after adding, and gives back what a full
// window refused), and exactly 5 do once the burst is over, so no refused
// signup left an event behind. Every refusal says how long to wait.
func TestClientLimitHoldsUnderConcurrency(t *testing.T) {
	e := MustEnv(t, "daily")
	limit := subscribers.SignupLimit{Window: throttle.NewWindow(e.rdb, "nl:{nl}:throttle:signup:", throttle.Rate{N: 5, Per: time.Hour}),
		Key: "198.51.100.7"}
	signup := func(i int) error {
		return e.svc.Subscribe(context.Background(), subscribers.SignupRequest{
			Email: fmt.Sprintf("burst%d@example.org", i), Newsletters: []string{"daily"}, Limit: limit})
	}
	var mu sync.Mutex
	passed := 0
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			err := signup(i)
			var limited *subscribers.LimitedError
			switch {
			case err == nil:
				mu.Lock()
				passed++
				mu.Unlock()
			case errors.As(err, &limited):
				if limited.Wait <= 0 || limited.Wait > time.Hour {
					t.Errorf("signup %d: wait %s, want within the hour", i, limited.Wait)
				}
			default:
				t.Errorf("signup %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if passed < 1 || passed > 5 {
		t.Fatalf("a burst of 40 against a limit of 5 let %d through", passed)
	}
	for i := 40; passed < 5 && i < 60; i++ {
		if err := signup(i); err == nil {
			passed++
		}
	}
	var limited *subscribers.LimitedError
	if err := signup(99); passed != 5 || !errors.As(err, &limited) {
		t.Fatalf("after the burst %d signups passed in all and the next got %v; want 5 and a refusal", passed, err)
	}
}
