package delivery_test

import (
	"context"
	"log/slog"
	"mime"
	"strings"
	"testing"
	"time"

	"newsletter"
	"newsletter/delivery"
	"newsletter/i18n"
	"newsletter/mailer/mailtest"
	"newsletter/subscribers"
)

// mustUkrainian makes the rig's newsletter daily a Ukrainian one.
func (r *rig) mustUkrainian(t *testing.T) {
	t.Helper()
	n := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief", Language: newsletter.LanguageUkrainian}
	n.Normalize()
	if _, err := r.store.PutNewsletter(context.Background(), n); err != nil {
		t.Fatal(err)
	}
}

// receivedEmail is one message as a real SMTP server received it: its
// decoded subject and its text and HTML parts.
type receivedEmail struct {
	subject, text, html string
}

func mustReceived(t *testing.T, m mailtest.Received) receivedEmail {
	t.Helper()
	msg, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	_, parts, err := m.Parts()
	if err != nil {
		t.Fatal(err)
	}
	return receivedEmail{subject: subject, text: parts["text/plain"], html: parts["text/html"]}
}

// check fails unless the email has the subject and holds every one of
// want in both parts, the HTML as <html lang="uk">, and no English or
// missing message shows.
func (e receivedEmail) check(t *testing.T, subject string, want ...string) {
	t.Helper()
	if e.subject != subject {
		t.Errorf("subject = %q, want %q", e.subject, subject)
	}
	if !strings.Contains(e.html, `<html lang="uk">`) {
		t.Errorf("HTML part is not <html lang=\"uk\">:\n%s", e.html)
	}
	for kind, body := range map[string]string{"text": e.text, "html": e.html} {
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s part lacks %q:\n%s", kind, w, body)
			}
		}
		for _, english := range []string{"Hello", "Unsubscribe", "unsubscribe</a>", "Manage your", "!("} {
			if strings.Contains(body, english) {
				t.Errorf("%s part holds %q:\n%s", kind, english, body)
			}
		}
	}
}

// TestUkrainianConfirmationAndWelcome: a Ukrainian newsletter's
// confirmation and welcome emails arrive in Ukrainian, subject and both
// parts.
func TestUkrainianConfirmationAndWelcome(t *testing.T) {
	r := mustRig(t)
	r.mustUkrainian(t)
	r.engine.ConfirmTTL = 7 * 24 * time.Hour
	ctx := context.Background()
	if err := r.engine.SendConfirmation(ctx, delivery.Confirmation{Email: "ann@example.org", Token: "T", Newsletters: []string{"daily"}}); err != nil {
		t.Fatal(err)
	}
	if err := r.engine.SendWelcome(ctx, delivery.Welcome{SubscriberID: 7, Email: "ann@example.org", Newsletter: "daily"}); err != nil {
		t.Fatal(err)
	}
	msgs := r.smtp.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want the confirmation and the welcome", len(msgs))
	}
	mustReceived(t, msgs[0]).check(t, "Підтвердьте підписку на «Daily Brief»",
		"Вітаємо!", "Daily Brief", "Посилання діє 7 днів", "Повідомте нам")
	mustReceived(t, msgs[1]).check(t, "Ласкаво просимо до розсилки «Daily Brief»",
		"Підписку для ann@example.org підтверджено.", "Керувати розсилками")
}

// TestUkrainianDigest: a Ukrainian newsletter's digest greets each reader
// in Ukrainian, by name, and dates itself with the month in the genitive.
func TestUkrainianDigest(t *testing.T) {
	r := mustRig(t)
	r.mustUkrainian(t)
	svc := subscribers.NewService(r.store, nil, slog.New(slog.DiscardHandler))
	if _, err := svc.Import(context.Background(), strings.NewReader("email,name\nann@example.org,Ann\n"),
		subscribers.ImportOptions{Newsletter: "daily", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
	d, plan := r.mustStart(t)
	r.mustSendAll(t, plan)
	msgs := r.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	date := i18n.Ukrainian.LongDate(d.CreatedAt.UTC())
	e := mustReceived(t, msgs[0])
	if want := "Daily Brief — " + date; d.Subject != want {
		t.Errorf("default subject = %q, want %q", d.Subject, want)
	}
	e.check(t, d.Subject, "Вітаємо, Ann!", date, "Керувати розсилками", "A story")
	for kind, body := range map[string]string{"text": e.text, "html": e.html} {
		if !strings.Contains(body, "Відписатися") && !strings.Contains(body, "відписатися") {
			t.Errorf("%s part has no Ukrainian unsubscribe:\n%s", kind, body)
		}
	}
	if !strings.Contains(e.html, "Відкрити в браузері") {
		t.Errorf("HTML part lacks the Ukrainian view-in-browser link:\n%s", e.html)
	}
}
