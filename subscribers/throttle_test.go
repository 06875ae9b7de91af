package subscribers_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"newsletter"
	"strings"
	"testing"
	"time"

	"newsletter/subscribers"
	"newsletter/throttle"
)

// MustLimits turns on the confirmation limits with a site-wide ceiling of
// site, and returns the service's log.
func MustLimits(tb testing.TB, e *env, site throttle.Rate) *bytes.Buffer {
	tb.Helper()
	e.svc.Limits = subscribers.NewConfirmLimits(e.rdb, site)
	var log bytes.Buffer
	e.svc.Logger = slog.New(slog.NewTextHandler(&log, nil))
	return &log
}

// MustSignup signs email up to daily from ip and returns how many
// confirmation emails went to email in all.
func MustSignup(tb testing.TB, e *env, email, ip string) int {
	tb.Helper()
	req := subscribers.SignupRequest{Email: email, Newsletters: []string{"daily"}, Meta: subscribers.RequestMeta{IP: ip}}
	if err := e.svc.Subscribe(ctx, req); err != nil {
		tb.Fatalf("Subscribe(%q) from %s: %v", email, ip, err)
	}
	return sentTo(e, email)
}

func sentTo(e *env, email string) int {
	n := 0
	for _, c := range e.rec.Confirmations() {
		if c.Email == email {
			n++
		}
	}
	return n
}

// TestBombingSendsOneConfirmation is the contract's bombing case: 500
// signups for one victim from 50 client IPs within a minute produce one
// confirmation email, and never more than five in any 24 hours.
func TestBombingSendsOneConfirmation(t *testing.T) {
	e := MustEnv(t, "daily")
	log := MustLimits(t, e, throttle.Rate{N: 1000, Per: time.Minute})
	const victim = "victim@example.org"
	for i := range 500 {
		e.SetClock(e.start.Add(time.Duration(i) * 100 * time.Millisecond))
		MustSignup(t, e, victim, fmt.Sprintf("198.51.100.%d", i%50))
	}
	if n := sentTo(e, victim); n != 1 {
		t.Fatalf("500 signups in a minute sent %d confirmation emails, want 1", n)
	}
	if n := MustSignup(t, e, "bystander@example.org", "198.51.100.1"); n != 1 {
		t.Errorf("another address got %d confirmation emails, want 1: one victim's limit is not everyone's", n)
	}
	if got := MustStatus(t, e, victim, "daily"); got != newsletter.StatusPending {
		t.Errorf("victim's subscription is %q, want pending", got)
	}
	if n := len(MustLookup(t, e, victim).Consent); n != 1 {
		t.Errorf("victim's consent history holds %d records, want 1: held-back repeats leave no trace", n)
	}
	if strings.Contains(log.String(), victim) || !strings.Contains(log.String(), `limit="address 1/10m0s"`) {
		t.Errorf("log names the address, or not the limit that held the emails back:\n%.500s", log.String())
	}

	sent := []time.Time{e.start}
	for at := e.start.Add(11 * time.Minute); at.Before(e.start.Add(48 * time.Hour)); at = at.Add(11 * time.Minute) {
		e.SetClock(at)
		if MustSignup(t, e, victim, "203.0.113.9") > len(sent) {
			sent = append(sent, at)
		}
	}
	for i, from := range sent {
		n := 0
		for _, at := range sent[i:] {
			if at.Sub(from) < 24*time.Hour {
				n++
			}
		}
		if n > 5 {
			t.Fatalf("%d confirmation emails in the 24 hours from %s, want at most 5; sent at %v", n, from.Sub(e.start), sent)
		}
	}
	if len(sent) != 10 {
		t.Errorf("a signup every 11 minutes for 48 hours sent %d emails, want 10 (5 a day)", len(sent))
	}
}

// TestSiteCeiling checks the site-wide limit, and that a signup it holds
// back is still recorded as pending and answered alike.
func TestSiteCeiling(t *testing.T) {
	e := MustEnv(t, "daily")
	log := MustLimits(t, e, throttle.Rate{N: 3, Per: time.Minute})
	for i := range 5 {
		e.SetClock(e.start.Add(time.Duration(i) * time.Second))
		MustSignup(t, e, fmt.Sprintf("reader%d@example.org", i), "192.0.2.1")
	}
	if n := len(e.rec.Confirmations()); n != 3 {
		t.Fatalf("5 addresses in a minute under a 3/m ceiling: %d emails, want 3", n)
	}
	if n := strings.Count(log.String(), "limit=site"); n != 2 {
		t.Errorf("the log says %d times that the site's limit held an email back, want 2:\n%s", n, log.String())
	}
	if got := MustStatus(t, e, "reader4@example.org", "daily"); got != newsletter.StatusPending {
		t.Errorf("held-back signup: status %q, want pending", got)
	}
	e.SetClock(e.start.Add(time.Minute + 5*time.Second))
	if n := MustSignup(t, e, "later@example.org", "192.0.2.1"); n != 1 {
		t.Errorf("a minute later: %d emails, want 1", n)
	}
	// Held back by the ceiling, reader4 spent its 10-minute slot (see
	// ConfirmLimits); after it, the email goes.
	if n := MustSignup(t, e, "reader4@example.org", "192.0.2.1"); n != 0 {
		t.Errorf("reader4 within 10 minutes: %d emails, want 0", n)
	}
	e.SetClock(e.start.Add(11 * time.Minute))
	if n := MustSignup(t, e, "reader4@example.org", "192.0.2.1"); n != 1 {
		t.Errorf("reader4 after 10 minutes: %d emails, want 1", n)
	}
}

// TestLimitsSpareConfirmedAndSuppressed checks that signups that send
// nothing anyway use up no slot.
func TestLimitsSpareConfirmedAndSuppressed(t *testing.T) {
	e := MustEnv(t, "daily")
	MustLimits(t, e, throttle.Rate{N: 1, Per: time.Minute})
	if err := e.svc.Store.Suppress(ctx, "gone@example.org", "550 5.1.1", subscribers.SourceSMTP, e.start); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		MustSignup(t, e, "gone@example.org", "192.0.2.1")
	}
	if n := MustSignup(t, e, "a@example.org", "192.0.2.1"); n != 1 {
		t.Fatalf("first deliverable signup: %d emails, want 1", n)
	}
}

// TestConfirmationEchoesOnlyTheAddress checks that what a signup asks to
// send carries nothing the signer typed but the address, so that the form
// cannot relay anyone's text.
func TestConfirmationEchoesOnlyTheAddress(t *testing.T) {
	e := MustEnv(t, "daily")
	req := subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily"},
		Name: "Cheap pills at https://spam.example", Meta: subscribers.RequestMeta{IP: "192.0.2.1",
			UserAgent: "pills-agent", Source: "https://spam.example/landing"}}
	if err := e.svc.Subscribe(ctx, req); err != nil {
		t.Fatal(err)
	}
	c := e.rec.Confirmations()[0]
	for _, typed := range []string{"pills", "spam.example"} {
		if s := fmt.Sprintf("%#v", c); strings.Contains(s, typed) {
			t.Errorf("confirmation request carries %q: %s", typed, s)
		}
	}
}
