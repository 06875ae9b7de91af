package subscribers_test

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
	"newsletter/throttle"
)

// TestSameNewAddressAtOnce signs one new address up 20 times at once
// through two stores (two processes, each reserving ids of its own): one
// signup gives the address its id, the others find it and go the way of
// a known address, so there is one subscriber, pending, with one
// confirmation email (the address's limit holds back the rest) and one
// consent record.
func TestSameNewAddressAtOnce(t *testing.T) {
	e := MustEnv(t, "daily")
	e.svc.Limits = subscribers.NewConfirmLimits(e.rdb, throttle.Rate{N: 1000, Per: time.Minute})
	other := subscribers.NewService(subscribers.NewStore(e.rdb), e.rec, slog.New(slog.DiscardHandler))
	other.Sealer = e.svc.Sealer
	other.Limits, other.ConsentWording = e.svc.Limits, e.svc.ConsentWording
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for i := range 20 {
		svc := e.svc
		if i%2 == 1 {
			svc = other
		}
		addr := "Same.Reader@example.org"
		if i%3 == 0 {
			addr = strings.ToLower(addr)
		}
		wg.Go(func() {
			errs <- svc.Subscribe(context.Background(), subscribers.SignupRequest{Email: addr, Newsletters: []string{"daily"}})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if st := MustStatus(t, e, "same.reader@example.org", "daily"); st != newsletter.StatusPending {
		t.Fatalf("status %q, want pending", st)
	}
	if got := len(e.rec.Confirmations()); got != 1 {
		t.Errorf("%d confirmation emails, want 1", got)
	}
	id, err := e.svc.Store.SubscriberID(context.Background(), "same.reader@example.org")
	if err != nil || id == 0 {
		t.Fatalf("id %d, %v", id, err)
	}
	sub, err := e.svc.Store.Subscriber(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if len(sub.Consent) != 1 {
		t.Errorf("%d consent records, want 1: %+v", len(sub.Consent), sub.Consent)
	}
}
