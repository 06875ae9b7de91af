package mailer_test

import (
	"bytes"
	"context"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

const (
	slotGreeting = "x-greeting-x"
	slotLink     = "x-link-x"
)

func newTemplate(t testing.TB, text, html string) *mailer.Template {
	t.Helper()
	tpl, err := mailer.NewTemplate(&mailer.Message{
		From: "Daily Brief <news@example.org>", Subject: "Tous les matins: l'essentiel ☕", Text: text, HTML: html,
		Headers: map[string]string{"List-Id": "<daily.example.org>", "Precedence": "bulk"},
	}, slotGreeting, slotLink)
	if err != nil {
		t.Fatal(err)
	}
	return tpl
}

func personal(to, name string) *mailer.Personal {
	link := "https://news.example.org/unsubscribe?token=" + strings.Repeat("Ab0_", 30)
	return &mailer.Personal{
		To: to, ToName: name, MessageID: "<d1.7@news.example.org>",
		Headers: []mailer.Header{{Name: "List-Unsubscribe", Value: "<" + link + ">"}},
		Text:    []string{"Hello " + name + ",", link},
		HTML:    []string{"Hello " + name + ",", link},
	}
}

// TestTemplateRoundTrip sends a Template's message over a Stream as dot-free
// and reads it back as a mail client would: every part decodes to the body
// with the recipient's values in place of the slots, lines that started with
// a dot included, and no line of the message starts with a dot.
func TestTemplateRoundTrip(t *testing.T) {
	long := strings.Repeat("Une phrase assez longue, avec des accents: é, è, ü et = signes. ", 20)
	text := slotGreeting + "\n\n" + long + "\n.leading dot\n\nUnsubscribe: " + slotLink + "\n"
	html := "<p>" + slotGreeting + "</p><p style=\"color: red\">" + long + "</p>\n.dot\n<a href=\"" + slotLink + "\">Unsubscribe</a> trailing space \n"
	tpl := newTemplate(t, text, html)
	p := personal("ann@example.net", "Zoë Reader")
	p.Text[0], p.HTML[0] = ".Dear\n.\nreader", ".Dear<br>\n.\nreader"

	srv := mailtest.MustStart(t)
	st, err := newSender(t, srv).Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	msg, err := tpl.Append(nil, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if bytes.HasPrefix(msg, []byte(".")) || bytes.Contains(msg, []byte("\n.")) {
		t.Errorf("a line of the message starts with a dot:\n%s", msg)
	}
	if err := st.Send(context.Background(), mailer.Outgoing{From: tpl.From(), To: p.To, Msg: msg, DotFree: true}); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, wait)[0]
	if got.From != "news@example.org" || len(got.To) != 1 || got.To[0] != "ann@example.net" {
		t.Errorf("envelope %q → %v", got.From, got.To)
	}
	parsed, err := got.Parse()
	if err != nil {
		t.Fatal(err)
	}
	checkTemplateHeaders(t, parsed)
	want := func(body string, values []string) string {
		body = strings.ReplaceAll(body, slotGreeting, values[0])
		return strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(body, slotLink, values[1]), "\n", "\r\n"))
	}
	checkAlternative(t, parsed, want(text, p.Text), want(html, p.HTML))
	for i, line := range strings.Split(string(msg), "\r\n") {
		if len(line) > 998 {
			t.Errorf("line %d is %d bytes long", i, len(line))
		}
	}
}

func checkTemplateHeaders(t *testing.T, m *mail.Message) {
	t.Helper()
	var dec mime.WordDecoder
	subject, err := dec.DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != "Tous les matins: l'essentiel ☕" {
		t.Errorf("Subject %q (%v)", subject, err)
	}
	to, err := m.Header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Zoë Reader" || to[0].Address != "ann@example.net" {
		t.Errorf("To %v (%v)", to, err)
	}
	for name, want := range map[string]string{
		"Message-ID": "<d1.7@news.example.org>", "List-Id": "<daily.example.org>", "Precedence": "bulk", "MIME-Version": "1.0",
	} {
		if got := m.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	if !strings.HasPrefix(m.Header.Get("List-Unsubscribe"), "<https://news.example.org/unsubscribe?token=") {
		t.Errorf("List-Unsubscribe: %q", m.Header.Get("List-Unsubscribe"))
	}
	if d, err := m.Header.Date(); err != nil || time.Since(d) > time.Minute {
		t.Errorf("Date %v (%v)", d, err)
	}
}

// TestTemplateNoHeaderInjection puts CR LF and a Bcc line in every value a
// reader controls: no header of its own may come of it.
func TestTemplateNoHeaderInjection(t *testing.T) {
	tpl := newTemplate(t, "Hi "+slotGreeting, "<p>"+slotGreeting+"</p>")
	p := personal("ann@example.net", "Ann\r\nBcc: victim@example.com")
	p.Text[0] = "Hello\r\nBcc: victim@example.com"
	msg, err := tpl.Append(nil, p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Header["Bcc"]) > 0 {
		t.Fatalf("a Bcc header came through: %q", m.Header["Bcc"])
	}
	for _, bad := range []*mailer.Personal{
		{To: "ann@example.net\r\nBcc: victim@example.com"},
		{To: "Ann <ann@example.net>"},
		{To: "ann@example.net", Headers: []mailer.Header{{Name: "Bcc", Value: "victim@example.com"}}},
		{To: "ann@example.net", MessageID: "<a b@c>"},
	} {
		if _, err := tpl.Append(nil, bad, time.Now()); err == nil {
			t.Errorf("Append(%+v) made a message", bad)
		}
	}
}

// TestTemplateSignedWithDKIM checks that a Template's message, signed on
// the way out, verifies.
func TestTemplateSignedWithDKIM(t *testing.T) {
	key, record := mustDKIM(t)
	srv := mailtest.MustStart(t)
	cfg := mustConfig(t, srv)
	cfg.DKIM = key
	p := mailer.NewPool(cfg, 2)
	t.Cleanup(func() { _ = p.Close() })
	tpl := newTemplate(t, "Text "+slotGreeting+" "+slotLink, "<p>"+slotGreeting+"</p><a href=\""+slotLink+"\">x</a>")
	pers := personal("ann@example.net", "Ann")
	msg, err := tpl.Append(nil, pers, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := p.SendRaw(context.Background(), tpl.From(), pers.To, msg); err != nil {
		t.Fatal(err)
	}
	checkSigned(t, srv.WaitFor(t, 1, wait)[0].Data, record)
}

func TestTemplateNeedsABody(t *testing.T) {
	if _, err := mailer.NewTemplate(&mailer.Message{From: "news@example.org"}); err == nil {
		t.Fatal("NewTemplate made a message without a body")
	}
	if _, err := mailer.NewTemplate(&mailer.Message{From: "not an address", Text: "x"}); err == nil {
		t.Fatal("NewTemplate took a bad From")
	}
}

// BenchmarkTemplateAppend measures what a digest costs per recipient
// once its message is encoded: about 24 KB written with two values
// encoded into it.
func BenchmarkTemplateAppend(b *testing.B) {
	article := "<tr><td style=\"padding: 8px 0; font-family: Georgia, serif\"><a href=\"https://news.example.org/2026/11/28/story\" style=\"color: #1a0dab\">A headline of some length</a><p style=\"margin: 4px 0 0; color: #444\">" + strings.Repeat("A summary sentence. ", 25) + "</p></td></tr>\n"
	html := "<p>" + slotGreeting + "</p><table>" + strings.Repeat(article, 10) + "</table><a href=\"" + slotLink + "\">Unsubscribe</a>"
	text := slotGreeting + "\n\n" + strings.Repeat("A headline of some length\nhttps://news.example.org/2026/11/28/story\n"+strings.Repeat("A summary sentence. ", 25)+"\n\n", 10) + slotLink
	tpl := newTemplate(b, text, html)
	p := personal("ann@example.net", "Ann Reader")
	now := time.Now()
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = tpl.Append(buf[:0], p, now); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
