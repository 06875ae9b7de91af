package delivery_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"newsletter"
	"newsletter/articles"
	"newsletter/delivery"
	"newsletter/mailer"
)

// mailpitScore is what Mailpit's HTML check (GET
// /api/v1/message/{ID}/html-check) says of a message: the share of its
// HTML and CSS that email clients support, and each feature it found with
// the share of clients that do not support it.
type mailpitScore struct {
	Total struct {
		Nodes                           int
		Supported, Partial, Unsupported float64
	}
	Warnings []struct {
		Slug  string
		Score struct {
			Found       int
			Unsupported float64
		}
	}
}

// TestMailpitHTMLCheck sends a confirmation, a welcome and a digest to a
// running Mailpit and reads its HTML check of each: at least 95% of what
// they use is supported, and no client is marked unsupported for a width
// (Outlook for Windows ignores max-width). It runs when
// NEWSLETTER_TEST_MAILPIT names Mailpit's web address (e.g.
// http://127.0.0.1:8025), sending to NEWSLETTER_TEST_MAILPIT_SMTP (default
// smtp://127.0.0.1:1025); bench/mailcheck starts one and runs it.
func TestMailpitHTMLCheck(t *testing.T) {
	api := os.Getenv("NEWSLETTER_TEST_MAILPIT")
	if api == "" {
		t.Skip("NEWSLETTER_TEST_MAILPIT is unset (bench/mailcheck runs this test against a Mailpit of its own)")
	}
	r := mustRig(t)
	r.mustUseMailpit(t)
	to := "mailcheck-" + strings.ToLower(rand.Text()[:10]) + "@example.org"
	r.mustSendInboxEmails(t, to)
	for _, kind := range []string{"confirm", "welcome", "digest"} {
		s := mailpitCheck(t, api, to, kind)
		t.Logf("%s: %.1f%% supported, %.1f%% partial, %.1f%% unsupported (%d nodes)", kind, s.Total.Supported, s.Total.Partial, s.Total.Unsupported, s.Total.Nodes)
		if s.Total.Supported < 95 {
			t.Errorf("%s: %.1f%% supported, want at least 95%%", kind, s.Total.Supported)
		}
		for _, w := range s.Warnings {
			if strings.Contains(w.Slug, "width") && w.Score.Unsupported > 0 {
				t.Errorf("%s: %s is unsupported by %.0f%% of clients", kind, w.Slug, w.Score.Unsupported)
			}
		}
	}
}

// mustUseMailpit sends the rig's email to Mailpit's SMTP server, with
// the postal address set and an article with an image.
func (r *rig) mustUseMailpit(t *testing.T) {
	t.Helper()
	smtpURL := os.Getenv("NEWSLETTER_TEST_MAILPIT_SMTP")
	if smtpURL == "" {
		smtpURL = "smtp://127.0.0.1:1025"
	}
	cfg, err := mailer.ParseSMTPURL(smtpURL)
	if err != nil {
		t.Fatal(err)
	}
	sender, bulk := mailer.NewSMTP(cfg), mailer.NewPool(cfg, 1)
	t.Cleanup(func() { sender.Close(); bulk.Close() })
	r.engine.Sender, r.engine.Bulk, r.engine.PostalAddress = sender, bulk, servicePostal
	a := articles.Article{URL: "https://news.example/b", Title: "Parliament passes the budget", Summary: "After a long night, a narrow majority.",
		Section: "Politics", Author: "Ann Writer", ImageURL: "https://news.example/b.jpg", ImageAlt: "Deputies vote",
		PublishedAt: time.Now().Add(-time.Minute)}
	if _, _, err := r.digests.Articles.Upsert(context.Background(), []articles.Article{a}, []string{"daily"}); err != nil {
		t.Fatal(err)
	}
}

// mustSendInboxEmails sends a confirmation, a welcome and a digest of
// daily to address to.
func (r *rig) mustSendInboxEmails(t *testing.T, to string) {
	t.Helper()
	ctx := context.Background()
	n := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief", Description: "The day's news, every morning."}
	n.Normalize()
	if _, err := r.store.PutNewsletter(ctx, n); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.SendConfirmation(ctx, delivery.Confirmation{Email: to, Token: "T", Newsletters: []string{"daily"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.SendWelcome(ctx, delivery.Welcome{SubscriberID: 7, Email: to, Newsletter: "daily"}); err != nil {
		t.Fatal(err)
	}
	r.mustImport(t, []string{to})
	_, plan := r.mustStart(t)
	r.mustSendAll(t, plan)
}

// mailpitCheck returns Mailpit's HTML check of the one message to to
// whose subject says kind.
func mailpitCheck(t *testing.T, api, to, kind string) mailpitScore {
	t.Helper()
	var found struct {
		Messages []struct{ ID, Subject string }
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(found.Messages) < 3 && time.Now().Before(deadline) {
		mustGetJSON(t, api+"/api/v1/search?query="+url.QueryEscape("to:"+to), &found)
		time.Sleep(100 * time.Millisecond)
	}
	words := map[string]string{"confirm": "confirm", "welcome": "Welcome", "digest": "Daily Brief —"}
	for _, m := range found.Messages {
		if strings.Contains(m.Subject, words[kind]) {
			var s mailpitScore
			mustGetJSON(t, api+"/api/v1/message/"+m.ID+"/html-check", &s)
			return s
		}
	}
	t.Fatalf("Mailpit holds no %s message to %s (it holds %+v)", kind, to, found.Messages)
	return mailpitScore{}
}

func mustGetJSON(t *testing.T, u string, v any) {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", u, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(fmt.Errorf("GET %s: %w", u, err))
	}
}
