package digests_test

import (
	"html"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter/digests"
	"newsletter/mailer"
	"newsletter/mailer/mailtest"
	"newsletter/subscribers"
)

const defaultFrom = "Newsletter <newsletter@localhost>"

// MustSigner returns a Signer with one test key.
func MustSigner(tb testing.TB) *subscribers.Signer {
	tb.Helper()
	s, err := subscribers.NewSigner([]string{"test-secret"})
	if err != nil {
		tb.Fatalf("NewSigner: %v", err)
	}
	return s
}

func recipient(id int64) digests.Recipient {
	return digests.Recipient{Bit: id, SubscriberID: id, Email: "ann@example.org", Name: "Ann"}
}

func TestMessageID(t *testing.T) {
	d, nl := MustDigest(t, 1)
	other := *d
	other.ID = "fedcba9876543210fedcba98"
	b := &digests.Body{Subject: d.Subject, HTML: "<p>hi</p>", Text: "hi"}
	env := digests.NewEnvelope(d, nl, defaultFrom, baseURL, MustSigner(t))

	first := env.Message(d, b, recipient(7)).MessageID
	if again := env.Message(d, b, recipient(7)).MessageID; again != first {
		t.Fatalf("Message-ID of a rebuild = %s, want %s", again, first)
	}
	if !strings.HasPrefix(first, "<") || !strings.HasSuffix(first, "@news.example.org>") {
		t.Fatalf("Message-ID = %s, want <...@news.example.org>", first)
	}
	for name, id := range map[string]string{
		"another recipient": env.Message(d, b, recipient(8)).MessageID,
		"another digest":    env.Message(&other, b, recipient(7)).MessageID,
	} {
		if id == first {
			t.Errorf("Message-ID for %s = %s, the same as the first", name, id)
		}
	}
}

func TestMessageUnsubscribe(t *testing.T) {
	d, nl := MustDigest(t, 1)
	signer := MustSigner(t)
	b := MustBody(t, 1)
	m := digests.NewEnvelope(d, nl, defaultFrom, baseURL, signer).Message(d, b, recipient(42))

	lu := m.Headers["List-Unsubscribe"]
	link, ok := strings.CutPrefix(lu, "<"+baseURL+"/unsubscribe?token=")
	if !ok || !strings.HasSuffix(link, ">") {
		t.Fatalf("List-Unsubscribe = %q, want <%s/unsubscribe?token=...>", lu, baseURL)
	}
	u, err := url.Parse(strings.Trim(lu, "<>"))
	if err != nil {
		t.Fatalf("List-Unsubscribe URL: %v", err)
	}
	id, newsletterID, err := signer.ParseUnsubscribeToken(u.Query().Get("token"))
	if err != nil || id != 42 || newsletterID != "daily" {
		t.Fatalf("token parses to %d, %q, %v; want 42, daily", id, newsletterID, err)
	}
	if got := m.Headers["List-Unsubscribe-Post"]; got != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe-Post = %q", got)
	}
	for part, want := range map[string][2]string{"html": {m.HTML, html.EscapeString(u.String())}, "text": {m.Text, u.String()}} {
		if doc := want[0]; !strings.Contains(doc, want[1]) {
			t.Errorf("%s part lacks the unsubscribe link %s", part, u)
		}
	}
	if m.To != "ann@example.org" || m.ToName != "Ann" || m.Subject != d.Subject {
		t.Fatalf("To %q, ToName %q, Subject %q", m.To, m.ToName, m.Subject)
	}
}

func TestMessageListID(t *testing.T) {
	tests := []struct {
		name string
		want string
	}{
		{"Daily Brief", `"Daily Brief" <daily.news.example.org>`},
		{`Café "Daily" Brief`, `"Caf Daily Brief" <daily.news.example.org>`},
		{`Back\slash`, `"Backslash" <daily.news.example.org>`},
		{"Щоденник", `<daily.news.example.org>`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, nl := MustDigest(t, 1)
			nl.Name = tt.name
			m := digests.NewEnvelope(d, nl, defaultFrom, baseURL+":8443/path", MustSigner(t)).Message(d, &digests.Body{}, recipient(1))
			if got := m.Headers["List-Id"]; got != tt.want {
				t.Fatalf("List-Id = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestMessageFrom(t *testing.T) {
	tests := []struct {
		name, from, want string
	}{
		{"newsletter's own", "Daily Brief <news@example.org>", "Daily Brief <news@example.org>"},
		{"default", "", defaultFrom},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, nl := MustDigest(t, 1)
			nl.From = tt.from
			m := digests.NewEnvelope(d, nl, defaultFrom, baseURL, MustSigner(t)).Message(d, &digests.Body{}, recipient(1))
			if m.From != tt.want {
				t.Fatalf("From = %q, want %q", m.From, tt.want)
			}
		})
	}
}

// TestTemplateMatchesMessage checks that the fan-out's message (Template
// and Personal) says what Message says: the same decoded parts and the
// same personal headers.
func TestTemplateMatchesMessage(t *testing.T) {
	d, nl := MustDigest(t, 3)
	body := MustBody(t, 3)
	env := digests.NewEnvelope(d, nl, defaultFrom, baseURL, MustSigner(t))
	r := recipient(42)
	r.Name = "Zoë <Reader> & Co"
	viaGoMail, err := mailer.Bytes(env.Message(d, body, r))
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := env.Template(body)
	if err != nil {
		t.Fatal(err)
	}
	var p mailer.Personal
	env.Personal(d, r, &p)
	viaTemplate, err := tpl.Append(nil, &p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	want, got := mailtest.Received{Data: viaGoMail}, mailtest.Received{Data: viaTemplate}
	for _, h := range []string{"To", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Precedence"} {
		if got.Header(h) != want.Header(h) {
			t.Errorf("%s: %q, want %q", h, got.Header(h), want.Header(h))
		}
	}
	_, wantParts, err := want.Parts()
	if err != nil {
		t.Fatal(err)
	}
	_, gotParts, err := got.Parts()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantParts, gotParts); diff != "" {
		t.Errorf("parts (-go-mail +template):\n%s", diff)
	}
}

// BenchmarkDigestMessage measures what the fan-out does per recipient: the
// personal parts (unsubscribe token, greeting, Message-ID) and the whole
// message written from the digest's Template, for a body of about 15 KB.
func BenchmarkDigestMessage(b *testing.B) {
	d, nl := MustDigest(b, 14)
	body := MustBody(b, 14)
	env := digests.NewEnvelope(d, nl, defaultFrom, baseURL, MustSigner(b))
	tpl, err := env.Template(body)
	if err != nil {
		b.Fatal(err)
	}
	r := recipient(123456)
	var p mailer.Personal
	var msg []byte
	now := time.Now()
	b.ReportAllocs()
	for b.Loop() {
		env.Personal(d, r, &p)
		if msg, err = tpl.Append(msg[:0], &p, now); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(msg)))
}

// BenchmarkEnvelopeMessage measures building one recipient's message of a
// body of about 15 KB as a mailer.Message, which go-mail then encodes: the
// way digests were sent before Template.
func BenchmarkEnvelopeMessage(b *testing.B) {
	d, nl := MustDigest(b, 14)
	body := MustBody(b, 14)
	env := digests.NewEnvelope(d, nl, defaultFrom, baseURL, MustSigner(b))
	r := recipient(123456)
	b.ReportAllocs()
	for b.Loop() {
		env.Message(d, body, r)
	}
}
