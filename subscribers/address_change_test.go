package subscribers_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
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
	if _, err := e.svc.ConfirmAddressChange(ctx, a.Token, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
		t.Fatalf("the link used twice: %v", err)
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
	for name, tok := range map[string]string{"replaced": first, "forged": second[:len(second)-2] + "AA", "empty": ""} {
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
// a reader merges: it keeps its own subscriptions and gains the mover's.
func TestAddressChangeIntoKnownAddress(t *testing.T) {
	e, rec, prefs := moverEnv(t, "a@example.org")
	ctx := context.Background()
	MustSubscribe(t, e, "b@example.org", "daily") // pending at b
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
}
