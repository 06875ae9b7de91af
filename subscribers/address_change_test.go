package subscribers_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
	"newsletter/throttle"
)

// addressRecorder is the env's recorder that also keeps the emails of
// changes of address.
type addressRecorder struct {
	*recorder
	mu      sync.Mutex
	changes []subscribers.AddressChangeEmail
}

func (r *addressRecorder) SendAddressChange(_ context.Context, a subscribers.AddressChangeEmail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.changes = append(r.changes, a)
	return nil
}

func (r *addressRecorder) last(t *testing.T) subscribers.AddressChangeEmail {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.changes) == 0 {
		t.Fatal("no address change email was asked for")
	}
	return r.changes[len(r.changes)-1]
}

// moverEnv is an env with a confirmed reader of daily and weekly; it
// returns the reader's preferences token.
func moverEnv(t *testing.T, addr string) (*env, *addressRecorder, string) {
	t.Helper()
	e := MustEnv(t, "daily", "weekly")
	e.svc.Signer = MustSigner(t, newKey)
	rec := &addressRecorder{recorder: e.rec}
	e.svc.Notifier = rec
	MustConfirm(t, e, MustSubscribe(t, e, addr, "daily", "weekly").Token)
	return e, rec, e.svc.Signer.PreferencesToken(MustLookup(t, e, addr).ID)
}

// TestAddressChangeMovesEverything: confirmed, the change gives the new
// address the confirmed subscriptions, the name and the consent history
// with a record of the move, and the old address is gone.
func TestAddressChangeMovesEverything(t *testing.T) {
	e, rec, prefs := moverEnv(t, "old@example.org")
	ctx := context.Background()
	if err := e.svc.Store.SetName(ctx, MustLookup(t, e, "old@example.org").ID, "Olha"); err != nil {
		t.Fatal(err)
	}
	before := MustLookup(t, e, "old@example.org")
	if err := e.svc.RequestAddressChange(ctx, prefs, "New@Example.NET", "en"); err != nil {
		t.Fatal(err)
	}
	a := rec.last(t)
	if a.OldEmail != "old@example.org" || a.NewEmail != "New@example.net" || a.Token == "" {
		t.Fatalf("the change email: %+v", a)
	}
	if MustStatus(t, e, "old@example.org", "daily") != newsletter.StatusConfirmed {
		t.Fatal("asking moved the reader before the link was used")
	}
	id, err := e.svc.ConfirmAddressChange(ctx, a.Token, subscribers.RequestMeta{IP: "192.0.2.4"})
	if err != nil {
		t.Fatal(err)
	}
	moved := MustLookup(t, e, "New@example.net")
	if moved.ID != id || moved.Name != "Olha" || moved.StatusOf("daily") != newsletter.StatusConfirmed ||
		moved.StatusOf("weekly") != newsletter.StatusConfirmed {
		t.Fatalf("after the move: %+v", moved)
	}
	if len(moved.Consent) != len(before.Consent)+1 || !strings.HasPrefix(moved.Consent[len(moved.Consent)-1].Source, "address change from old@example.org") {
		t.Fatalf("consent after the move: %+v", moved.Consent)
	}
	if _, err := e.svc.Lookup(ctx, "old@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Fatalf("the old address: %v, want not_found", err)
	}
	if again, err := e.svc.ConfirmAddressChange(ctx, a.Token, subscribers.RequestMeta{}); err != nil || again != id {
		t.Fatalf("the link used again: %d, %v; want the same %d (a second click)", again, err, id)
	}
	if n := len(MustLookup(t, e, "New@example.net").Consent); n != len(moved.Consent) {
		t.Fatalf("the second click added consent records: %d -> %d", len(moved.Consent), n)
	}
}

// TestAddressChangeClickedAtOnce: of eight confirmations of one link at
// once, the move happens once: one set of consent records, one record of
// the move.
func TestAddressChangeClickedAtOnce(t *testing.T) {
	e, rec, prefs := moverEnv(t, "twice@example.org")
	ctx := context.Background()
	records := len(MustLookup(t, e, "twice@example.org").Consent)
	if err := e.svc.RequestAddressChange(ctx, prefs, "once@example.org", "en"); err != nil {
		t.Fatal(err)
	}
	token := rec.last(t).Token
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { _, _ = e.svc.ConfirmAddressChange(ctx, token, subscribers.RequestMeta{}) })
	}
	wg.Wait()
	if n := len(MustLookup(t, e, "once@example.org").Consent); n != records+1 {
		t.Fatalf("after 8 clicks at once the new address has %d consent records, want %d", n, records+1)
	}
}

// TestOldLinksFollowTheMove: after a move, an unsubscribe link and the
// preference link of an earlier email act on the new address.
func TestOldLinksFollowTheMove(t *testing.T) {
	e, rec, prefs := moverEnv(t, "before@example.org")
	ctx := context.Background()
	oldID := MustLookup(t, e, "before@example.org").ID
	if err := e.svc.RequestAddressChange(ctx, prefs, "after@example.org", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmAddressChange(ctx, rec.last(t).Token, subscribers.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	if sub, err := e.svc.PreferencesSubscriber(ctx, prefs); err != nil || sub.Email != "after@example.org" {
		t.Fatalf("the old preferences link: %v, %v", sub, err)
	}
	if _, err := e.svc.Unsubscribe(ctx, e.svc.Signer.UnsubscribeToken(oldID, "daily"), subscribers.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	if st := MustStatus(t, e, "after@example.org", "daily"); st != newsletter.StatusUnsubscribed {
		t.Fatalf("an old unsubscribe link left the new address %s", st)
	}
}

// TestAddressChangeLimits: the change takes from both addresses' limits,
// so a reader's link cannot mail one address again and again.
func TestAddressChangeLimits(t *testing.T) {
	e, _, prefs := moverEnv(t, "limited@example.org")
	e.svc.Limits = subscribers.NewConfirmLimits(e.rdb, throttle.Rate{N: 1000, Per: time.Hour})
	ctx := context.Background()
	if err := e.svc.RequestAddressChange(ctx, prefs, "target@example.org", "en"); err != nil {
		t.Fatal(err)
	}
	var limited *subscribers.LimitedError
	for _, to := range []string{"target@example.org", "another@example.org"} {
		if err := e.svc.RequestAddressChange(ctx, prefs, to, "en"); !errors.As(err, &limited) {
			t.Errorf("a second change (to %s) within 10 minutes: %v, want limited", to, err)
		}
	}
}

// TestAddressChangeRefuses: the same address, a bad address, a link a
// later request replaced, an expired link, and a forged one change
// nothing.
func TestAddressChangeRefuses(t *testing.T) {
	e, rec, prefs := moverEnv(t, "stay@example.org")
	ctx := context.Background()
	for _, bad := range []string{"stay@example.org", "STAY+news@example.org", "not an address"} {
		if err := e.svc.RequestAddressChange(ctx, prefs, bad, "en"); newsletter.ErrorCode(err) != newsletter.EINVALIDEMAIL {
			t.Errorf("change to %q: %v, want invalid_email", bad, err)
		}
	}
	if err := e.svc.RequestAddressChange(ctx, prefs, "first@example.org", "en"); err != nil {
		t.Fatal(err)
	}
	first := rec.last(t).Token
	if err := e.svc.RequestAddressChange(ctx, prefs, "second@example.org", "en"); err != nil {
		t.Fatal(err)
	}
	second := rec.last(t).Token
	for name, tok := range map[string]string{"replaced": first, "forged": flipChar(second, len(second)/2), "empty": ""} {
		if _, err := e.svc.ConfirmAddressChange(ctx, tok, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
			t.Errorf("%s link: %v, want invalid_token", name, err)
		}
	}
	e.SetClock(e.start.Add(e.svc.ConfirmTTL + time.Second))
	if _, err := e.svc.ConfirmAddressChange(ctx, second, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
		t.Errorf("expired link: %v, want invalid_token", err)
	}
	if MustStatus(t, e, "stay@example.org", "daily") != newsletter.StatusConfirmed {
		t.Fatal("a refused change moved the reader")
	}
}

// TestAddressChangeIntoKnownAddress: moving to an address that is already
// a reader merges: it keeps its own subscriptions (here a confirmed
// weekly) and gains the mover's (daily); the mover's old address is gone.
func TestAddressChangeIntoKnownAddress(t *testing.T) {
	e, rec, prefs := moverEnv(t, "a@example.org")
	ctx := context.Background()
	MustConfirm(t, e, MustSubscribe(t, e, "b@example.org", "weekly").Token)
	e.SetClock(e.start.Add(11 * time.Minute)) // past b's confirmation limit
	if err := e.svc.RequestAddressChange(ctx, prefs, "b@example.org", "en"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmAddressChange(ctx, rec.last(t).Token, subscribers.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	b := MustLookup(t, e, "b@example.org")
	if b.StatusOf("daily") != newsletter.StatusConfirmed || b.StatusOf("weekly") != newsletter.StatusConfirmed {
		t.Fatalf("after moving into b: %+v", b.Subscriptions)
	}
	if _, err := e.svc.Lookup(ctx, "a@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Fatalf("the mover's old address: %v", err)
	}
}

// TestAddressChangeCancelled: the notice's link cancels the change (its
// page first changes nothing); the confirming link then works no more, and
// the cancelling link cannot confirm.
func TestAddressChangeCancelled(t *testing.T) {
	e, rec, prefs := moverEnv(t, "owner@example.org")
	ctx := context.Background()
	if err := e.svc.RequestAddressChange(ctx, prefs, "intruder@example.org", "en"); err != nil {
		t.Fatal(err)
	}
	a := rec.last(t)
	if _, err := e.svc.ConfirmAddressChange(ctx, a.CancelToken, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
		t.Fatalf("the cancelling link confirmed: %v", err)
	}
	if ch, err := e.svc.CancellableChange(ctx, a.CancelToken); err != nil || ch.NewEmail != "intruder@example.org" {
		t.Fatalf("CancellableChange: %v, %v", ch, err)
	}
	if _, err := e.svc.PendingAddressChange(ctx, a.Token); err != nil {
		t.Fatalf("looking at the cancel page cancelled: %v", err)
	}
	if _, err := e.svc.CancelAddressChange(ctx, a.CancelToken); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmAddressChange(ctx, a.Token, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
		t.Fatalf("the confirming link after a cancel: %v", err)
	}
	if MustStatus(t, e, "owner@example.org", "daily") != newsletter.StatusConfirmed {
		t.Fatal("the cancelled change moved the reader")
	}
}
