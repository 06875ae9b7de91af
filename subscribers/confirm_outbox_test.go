package subscribers_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
)

// gate is a Notifier that fails while closed and, once open, keeps the
// confirmation emails it is handed, and can run a hook as it takes one.
type gate struct {
	mu     sync.Mutex
	open   bool
	failAt int // > 0: the failAt-th email handed on fails (counted from 1)
	seen   int
	sent   []subscribers.ConfirmationEmail
	reqIDs []string
	hook   func()
}

var errGateClosed = errors.New("gate closed")

func (g *gate) SendConfirmation(ctx context.Context, c subscribers.ConfirmationEmail) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen++
	if !g.open || g.seen == g.failAt {
		return errGateClosed
	}
	if g.hook != nil {
		g.hook()
	}
	g.sent = append(g.sent, c)
	g.reqIDs = append(g.reqIDs, newsletter.RequestID(ctx))
	return nil
}

func (g *gate) SendWelcome(context.Context, subscribers.WelcomeEmail) error { return nil }

func (g *gate) emails() []string {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []string
	for _, c := range g.sent {
		out = append(out, c.Email)
	}
	return out
}

// gatedEnv is an env whose service hands confirmation emails to a gate.
func gatedEnv(t *testing.T) (*env, *gate) {
	t.Helper()
	e := MustEnv(t, "daily")
	g := &gate{}
	e.svc.Notifier = g
	return e, g
}

func outboxLen(t *testing.T, e *env) int64 {
	t.Helper()
	n, _, err := e.svc.Store.PendingConfirmations(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func signup(t *testing.T, e *env, ctx context.Context, addr string) {
	t.Helper()
	if err := e.svc.Subscribe(ctx, subscribers.SignupRequest{Email: addr, Newsletters: []string{"daily"}}); err != nil {
		t.Fatalf("Subscribe(%s): %v", addr, err)
	}
}

// TestSignupKeepsItsEmailWhileTheQueueIsDown: the signup and its email are
// one step, so a signup succeeds while the Notifier fails, and its email
// goes out, with a working link, once the Notifier works again. The
// token waits sealed.
func TestSignupKeepsItsEmailWhileTheQueueIsDown(t *testing.T) {
	e, g := gatedEnv(t)
	ctx := newsletter.WithRequestID(context.Background(), "req-1")
	signup(t, e, ctx, "reader@example.org")
	if n, err := e.svc.RelayConfirmations(ctx); n != 0 || !errors.Is(err, errGateClosed) {
		t.Fatalf("relay with the queue down = %d, %v; want 0 and the Notifier's error", n, err)
	}
	outbox, _, _ := subscribers.OutboxKeys("reader@example.org")
	entries, err := e.rdb.LRange(ctx, outbox, 0, -1).Result()
	if err != nil || len(entries) != 1 {
		t.Fatalf("outbox after a failed relay = %q, %v; want one entry", entries, err)
	}
	g.open = true
	if n, err := e.svc.RelayConfirmations(ctx); n != 1 || err != nil {
		t.Fatalf("relay = %d, %v; want 1", n, err)
	}
	if n := outboxLen(t, e); n != 0 {
		t.Fatalf("outbox holds %d after the relay, want 0", n)
	}
	c := g.sent[0]
	if c.Email != "reader@example.org" || fmt.Sprint(c.Newsletters) != "[daily]" || g.reqIDs[0] != "req-1" {
		t.Fatalf("relayed %+v with request id %q", c, g.reqIDs[0])
	}
	if nls := MustConfirm(t, e, c.Token); fmt.Sprint(nls) != "[daily]" {
		t.Fatalf("the relayed token confirmed %v", nls)
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Token)
	if err != nil {
		t.Fatal(err)
	}
	secret := raw[8:]
	if strings.Contains(entries[0], c.Token[11:]) || strings.Contains(entries[0], string(secret)) ||
		strings.Contains(entries[0], base64.RawURLEncoding.EncodeToString(secret)) {
		t.Fatalf("the outbox held the token in the clear: %q", entries[0])
	}
}

// TestRelayKeepsOrderAndRemovesOnlyWhatItHandedOn: a Notifier failing at
// the third email leaves it and the rest in the outbox, in order.
func TestRelayKeepsOrderAndRemovesOnlyWhatItHandedOn(t *testing.T) {
	e, g := gatedEnv(t)
	ctx := context.Background()
	var want []string
	for i := range 5 {
		addr := fmt.Sprintf("r%d@example.org", i)
		want = append(want, addr)
		signup(t, e, ctx, addr)
	}
	g.open, g.failAt = true, 3
	if n, err := e.svc.RelayConfirmations(ctx); n != 2 || !errors.Is(err, errGateClosed) {
		t.Fatalf("relay = %d, %v; want 2 and the Notifier's error", n, err)
	}
	if n := outboxLen(t, e); n != 3 {
		t.Fatalf("outbox holds %d, want 3", n)
	}
	if n, err := e.svc.RelayConfirmations(ctx); n != 3 || err != nil {
		t.Fatalf("second relay = %d, %v; want 3", n, err)
	}
	if got := strings.Join(g.emails(), " "); got != strings.Join(want, " ") {
		t.Fatalf("handed on %s, want %s", got, strings.Join(want, " "))
	}
}

// TestRelayLease: while another relay holds the outbox, a relay hands
// nothing on; a relay whose lease passed to another, or ran out, removes
// nothing and says so, so its emails are handed on again rather than lost.
func TestRelayLease(t *testing.T) {
	e, g := gatedEnv(t)
	ctx := context.Background()
	addrs := subscribers.AddressesInOnePartition("reader", 2) // one outbox, one lease
	_, _, lease := subscribers.OutboxKeys(addrs[0])
	for _, addr := range addrs {
		signup(t, e, ctx, addr)
	}
	g.open = true
	if err := e.rdb.Set(ctx, lease, "another", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := e.svc.RelayConfirmations(ctx); n != 0 || err != nil || len(g.emails()) != 0 {
		t.Fatalf("relay while leased = %d, %v, handed %v; want nothing", n, err, g.emails())
	}
	if err := e.rdb.Del(ctx, lease).Err(); err != nil {
		t.Fatal(err)
	}
	for _, lose := range []func(){
		func() { e.rdb.Set(ctx, lease, "took-over", time.Minute) }, // taken over
		func() { e.rdb.Del(ctx, lease) },                           // ran out
	} {
		g.hook = lose
		if n, err := e.svc.RelayConfirmations(ctx); n != 2 || err == nil || !strings.Contains(err.Error(), "lease") {
			t.Fatalf("relay that lost its lease = %d, %v; want 2 and an error saying so", n, err)
		}
		if n := outboxLen(t, e); n != 2 {
			t.Fatalf("a relay that lost its lease removed entries: outbox holds %d, want 2", n)
		}
		e.rdb.Del(ctx, lease)
	}
	g.hook = nil
	if n, err := e.svc.RelayConfirmations(ctx); n != 2 || err != nil || outboxLen(t, e) != 0 {
		t.Fatalf("relay after the lease ended = %d, %v", n, err)
	}
	if got, both := strings.Join(g.emails(), " "), addrs[0]+" "+addrs[1]; got != both+" "+both+" "+both {
		t.Fatalf("handed on %s, want a and b three times", got)
	}
}

// TestRelayTakesBackItsOwnLease: a relay whose batch failed half-way
// (Redis lost in a failover before it could end its lease) goes on at
// once, not 30 s later when the lease runs out; another relay still
// waits.
func TestRelayTakesBackItsOwnLease(t *testing.T) {
	e, g := gatedEnv(t)
	ctx := context.Background()
	addr := "reader@example.org"
	_, _, lease := subscribers.OutboxKeys(addr)
	signup(t, e, ctx, addr)
	g.open = true
	if err := e.rdb.Set(ctx, lease, subscribers.RelayOwner(e.svc), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	other := subscribers.NewService(e.svc.Store, g, e.svc.Logger)
	other.Sealer = e.svc.Sealer
	if n, err := other.RelayConfirmations(ctx); n != 0 || err != nil {
		t.Fatalf("another relay = %d, %v; want nothing while the lease is held", n, err)
	}
	if n, err := e.svc.RelayConfirmations(ctx); n != 1 || err != nil || outboxLen(t, e) != 0 {
		t.Fatalf("the relay that held the lease = %d, %v; want its email handed on at once", n, err)
	}
}

// TestRelayMovesAsideWhatItCannotRead: an entry the relay cannot read (here
// one damaged in Redis) goes to the dead list, logged, and does not hold
// back the emails after it; erasing its address blanks it there too.
func TestRelayMovesAsideWhatItCannotRead(t *testing.T) {
	e, g := gatedEnv(t)
	ctx := context.Background()
	signup(t, e, ctx, "old@example.org")
	var logs bytes.Buffer
	e.svc.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	outbox, _, _ := subscribers.OutboxKeys("old@example.org")
	entry, err := e.rdb.LIndex(ctx, outbox, 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitN(entry, "\n", 4)
	lines[2] = "not a number"
	if err := e.rdb.LSet(ctx, outbox, 0, strings.Join(lines, "\n")).Err(); err != nil {
		t.Fatal(err)
	}
	signup(t, e, ctx, "new@example.org")
	g.open = true
	if n, err := e.svc.RelayConfirmations(ctx); n != 2 || err != nil {
		t.Fatalf("relay = %d, %v; want 2 (one dropped)", n, err)
	}
	if got := g.emails(); len(got) != 1 || got[0] != "new@example.org" {
		t.Fatalf("handed on %v, want the new one only", got)
	}
	if !strings.Contains(logs.String(), "Confirmation email moved to the outbox's dead list") {
		t.Fatalf("the move was not logged:\n%s", logs.String())
	}
	waiting, dead, err := e.svc.Store.PendingConfirmations(ctx)
	if err != nil || waiting != 0 || dead != 1 {
		t.Fatalf("PendingConfirmations = %d waiting, %d dead, %v; want 0 and 1", waiting, dead, err)
	}
	_, deadKey, _ := subscribers.OutboxKeys("old@example.org")
	held, _ := e.rdb.LRange(ctx, deadKey, 0, -1).Result()
	if len(held) != 1 || !strings.Contains(held[0], "old@example.org") {
		t.Fatalf("dead list = %q, want old@example.org's email", held)
	}
	if err := e.svc.Erase(ctx, "old@example.org"); err != nil {
		t.Fatal(err)
	}
	if held, _ := e.rdb.LRange(ctx, deadKey, 0, -1).Result(); strings.Contains(strings.Join(held, ""), "old@") {
		t.Fatalf("erasure left the address in the dead list: %q", held)
	}
}

// TestSubscribeNeedsASealer: without one the signup fails and stores nothing.
func TestSubscribeNeedsASealer(t *testing.T) {
	e := MustEnv(t, "daily")
	e.svc.Sealer = nil
	err := e.svc.Subscribe(context.Background(), subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily"}})
	if err == nil {
		t.Fatal("Subscribe without a Sealer succeeded")
	}
	if id, _ := e.svc.Store.SubscriberID(context.Background(), "a@example.org"); id != 0 {
		t.Fatal("Subscribe without a Sealer stored the subscriber")
	}
}

// TestRunConfirmationRelay relays what arrives while it runs and returns
// when its context ends.
func TestRunConfirmationRelay(t *testing.T) {
	e, g := gatedEnv(t)
	g.open = true
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.svc.RunConfirmationRelay(ctx); close(done) }()
	signup(t, e, context.Background(), "a@example.org")
	deadline := time.Now().Add(5 * time.Second)
	for len(g.emails()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("RunConfirmationRelay did not return after its context ended")
	}
	if got := g.emails(); len(got) != 1 {
		t.Fatalf("handed on %v, want a@example.org once", got)
	}
}

// TestEraseBlanksTheOutbox: erasing a subscriber whose email waits in the
// outbox blanks it in place, so no email goes out; one erased while a
// relay hands its batch on has gone out already, and the relay still
// removes just its batch (an entry removed instead of blanked would shift
// the list under it).
func TestEraseBlanksTheOutbox(t *testing.T) {
	e, g := gatedEnv(t)
	ctx := context.Background()
	// One partition, whose outbox keeps their order: the early ones get
	// its first ten ids, a, gone and b the next; erasing the first must
	// blank none of the others, though their ids may start alike.
	addrs := subscribers.AddressesInOnePartition("reader", 16)
	a, gone, b, c, goneLater, d := addrs[10], addrs[11], addrs[12], addrs[13], addrs[14], addrs[15]
	for _, early := range addrs[:10] {
		signup(t, e, ctx, early)
	}
	e.svc.Notifier = &gate{open: true}
	if n, err := e.svc.RelayConfirmations(ctx); n != 10 || err != nil {
		t.Fatalf("relay = %d, %v; want 10", n, err)
	}
	e.svc.Notifier = g
	for _, addr := range []string{a, gone, b} {
		signup(t, e, ctx, addr)
	}
	if err := e.svc.Erase(ctx, addrs[0]); err != nil { // the first id, its email gone already
		t.Fatal(err)
	}
	if err := e.svc.Erase(ctx, gone); err != nil {
		t.Fatal(err)
	}
	g.open = true
	if n, err := e.svc.RelayConfirmations(ctx); n != 3 || err != nil {
		t.Fatalf("relay = %d, %v; want 3", n, err)
	}
	if got := strings.Join(g.emails(), " "); got != a+" "+b {
		t.Fatalf("handed on %s, want a and b", got)
	}

	signup(t, e, ctx, c)
	signup(t, e, ctx, goneLater)
	g.hook = func() {
		g.hook = nil
		if err := e.svc.Erase(ctx, goneLater); err != nil {
			t.Error(err)
		}
		signup(t, e, ctx, d)
	}
	if n, err := e.svc.RelayConfirmations(ctx); n != 2 || err != nil {
		t.Fatalf("relay = %d, %v; want 2", n, err)
	}
	outbox, _, _ := subscribers.OutboxKeys(d)
	left, err := e.rdb.LRange(ctx, outbox, 0, -1).Result()
	if err != nil || len(left) != 1 || !strings.Contains(left[0], d) {
		t.Fatalf("outbox after the relay = %q, %v; want d's email only", left, err)
	}
}
