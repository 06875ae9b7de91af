package delivery_test

import (
	"context"
	"strings"
	"testing"

	"newsletter"
	"newsletter/delivery"
)

const servicePostal = "News Ltd, 1 Main Street, Kyiv 01001"

// TestWelcomeAndDigestCarryPostalAddress: the welcome email and the digest
// print the service's postal address in both parts, and a newsletter's
// own replaces it; the confirmation email, which is no bulk mail, prints
// none.
func TestWelcomeAndDigestCarryPostalAddress(t *testing.T) {
	r := mustRig(t)
	r.engine.PostalAddress = servicePostal
	r.mustReaders(t, 1)
	ctx := context.Background()
	if err := r.engine.SendConfirmation(ctx, delivery.Confirmation{Email: "ann@example.org", Token: "T", Newsletters: []string{"daily"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.SendWelcome(ctx, delivery.Welcome{SubscriberID: 7, Email: "ann@example.org", Newsletter: "daily"}); err != nil {
		t.Fatal(err)
	}
	_, plan := r.mustStart(t)
	r.mustSendAll(t, plan)
	own := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief", PostalAddress: "Daily Ltd, 2 Side Street"}
	own.Normalize()
	if _, err := r.store.PutNewsletter(ctx, own); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.SendWelcome(ctx, delivery.Welcome{SubscriberID: 7, Email: "ann@example.org", Newsletter: "daily"}); err != nil {
		t.Fatal(err)
	}
	msgs := r.smtp.Messages()
	if len(msgs) != 4 {
		t.Fatalf("%d messages, want confirmation, welcome, digest and welcome", len(msgs))
	}
	for i, want := range []string{"", servicePostal, servicePostal, "Daily Ltd, 2 Side Street"} {
		e := mustReceived(t, msgs[i])
		for part, body := range map[string]string{"text": e.text, "html": e.html} {
			for _, addr := range []string{servicePostal, "Daily Ltd, 2 Side Street"} {
				if got := strings.Contains(body, addr); got != (addr == want) {
					t.Errorf("message %d (%s), %s part holds %q: %v, want %v", i, e.subject, part, addr, got, addr == want)
				}
			}
		}
	}
}

// TestWelcomeCarriesBranding: the welcome email shows its newsletter's
// logo, accent colour and footer text.
func TestWelcomeCarriesBranding(t *testing.T) {
	r := mustRig(t)
	ctx := context.Background()
	n := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief", LogoURL: "https://news.example/logo.png",
		AccentColor: "#0A5C36", FooterText: "Independent since 1901"}
	n.Normalize()
	if err := n.Validate(); err != nil {
		t.Fatal(err)
	}
	if _, err := r.store.PutNewsletter(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.SendWelcome(ctx, delivery.Welcome{SubscriberID: 7, Email: "ann@example.org", Newsletter: "daily"}); err != nil {
		t.Fatal(err)
	}
	e := mustReceived(t, r.smtp.Messages()[0])
	for _, want := range []string{`<img src="https://news.example/logo.png" alt="Daily Brief"`, "color:#0a5c36;", "Independent since 1901"} {
		if !strings.Contains(e.html, want) {
			t.Errorf("HTML lacks %s:\n%s", want, e.html)
		}
	}
	if !strings.Contains(e.text, "Independent since 1901") {
		t.Errorf("text lacks the footer text:\n%s", e.text)
	}
}
