package delivery_test

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"newsletter/delivery"
	"newsletter/subscribers"
)

var preferencesLink = regexp.MustCompile(`https://news\.example/preferences\?token=[A-Za-z0-9_\-.]+`)

// TestWelcomeLinksToPreferences: the welcome email a real SMTP server
// receives carries "Manage your newsletters" with the reader's own
// preferences link in its HTML and its text part.
func TestWelcomeLinksToPreferences(t *testing.T) {
	r := mustRig(t)
	if err := r.engine.SendWelcome(context.Background(), delivery.Welcome{SubscriberID: 4242, Email: "new@example.org", Newsletter: "daily"}); err != nil {
		t.Fatal(err)
	}
	msgs := r.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the welcome", len(msgs))
	}
	_, parts, err := msgs[0].Parts()
	if err != nil {
		t.Fatal(err)
	}
	signer, err := subscribers.NewSigner([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []string{"text/plain", "text/html"} {
		body := parts[kind]
		link := preferencesLink.FindString(body)
		if link == "" || !strings.Contains(body, "Manage your newsletters") {
			t.Fatalf("%s part has no preferences link:\n%s", kind, body)
		}
		u, _ := url.Parse(link)
		if id, err := signer.ParsePreferencesToken(u.Query().Get("token")); err != nil || id != 4242 {
			t.Errorf("%s part: the link's token = %d, %v; want 4242", kind, id, err)
		}
	}
}
