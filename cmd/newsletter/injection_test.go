package main

import (
	"encoding/json"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"newsletter/mailer/mailtest"
)

// injected is what every attacker-chosen header value below tries to add.
const injected = "\r\nBcc: x@y"

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestInjectionRefusedInNewsletterSettings(t *testing.T) {
	t.Parallel()
	h := mustServeOnly(t)
	for _, body := range []map[string]string{
		{"name": "Daily" + injected},
		{"name": "Daily Brief", "from": "Daily Brief <news@example.org>" + injected},
		{"name": "Daily Brief", "from": "Daily" + injected + " <news@example.org>"},
	} {
		code, resp := h.editor("PUT", "/v1/newsletters/daily", jsonOf(t, body))
		if code != 422 || !strings.Contains(resp, "invalid_newsletter") {
			t.Errorf("PUT newsletter %q = %d %s, want 422 invalid_newsletter", body, code, resp)
		}
	}
	env := testEnv(h.redisURL, h.smtp.URL())
	env["NEWSLETTER_FROM"] = "Newsletter <news@example.org>" + injected
	if _, err := LoadConfig(func(k string) string { return env[k] }); err == nil || !strings.Contains(err.Error(), "NEWSLETTER_FROM") {
		t.Errorf("NEWSLETTER_FROM with CRLF: LoadConfig error = %v, want one naming NEWSLETTER_FROM", err)
	}
}

func TestInjectionNoHeaderFromReaderOrEditorText(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	const reader = "ann@example.org"

	signup := jsonOf(t, map[string]any{"email": reader, "newsletters": []string{"daily"}, "name": "Ann" + injected})
	if code, body := h.do("POST", "/v1/subscriptions", "application/json", signup); code != 202 {
		t.Fatalf("signup = %d %s", code, body)
	}
	confirmation := h.smtp.WaitFor(t, 1, 10*time.Second)[0]
	if code, _ := h.confirm(tokenOf(t, confirmLink(t, confirmation))); code != 200 {
		t.Fatalf("confirm = %d", code)
	}
	h.smtp.WaitFor(t, 2, 10*time.Second) // the welcome

	h.postArticles([]string{"Title" + injected}, time.Hour)
	code, d := h.createDigest("daily", jsonOf(t, map[string]string{"subject": "Daily" + injected}))
	if code != 202 {
		t.Fatalf("create digest = %d", code)
	}
	h.waitDigest(d.ID, 30*time.Second)
	msgs := h.smtp.WaitFor(t, 3, 10*time.Second)
	waitQuiet()
	msgs = h.smtp.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages, want 3: confirmation, welcome, digest", len(msgs))
	}
	for _, m := range msgs {
		wantNoInjectedHeader(t, m, reader)
	}
	if subj := decodedSubject(t, msgs[2]); !strings.Contains(subj, "Daily") {
		t.Errorf("digest subject %q lost the editor's text", subj)
	}
}

// wantNoInjectedHeader parses m and fails if it carries a Bcc header, a
// Subject or To of more than one line, or any envelope recipient but to.
func wantNoInjectedHeader(t *testing.T, m mailtest.Received, to string) {
	t.Helper()
	if len(m.To) != 1 || m.To[0] != to {
		t.Errorf("envelope recipients %v, want only %s", m.To, to)
	}
	msg, err := mail.ReadMessage(strings.NewReader(string(m.Data)))
	if err != nil {
		t.Fatalf("message does not parse: %v\n%s", err, m.Data)
	}
	for name := range msg.Header {
		if strings.EqualFold(name, "Bcc") || strings.EqualFold(name, "Cc") {
			t.Errorf("message carries a %s header: %q", name, msg.Header[name])
		}
	}
	subject := decodedSubject(t, m)
	if strings.ContainsAny(subject, "\r\n") {
		t.Errorf("Subject decodes to more than one line: %q", subject)
	}
	addrs, err := msg.Header.AddressList("To")
	if err != nil || len(addrs) != 1 || addrs[0].Address != to || strings.ContainsAny(addrs[0].Name, "\r\n") {
		t.Errorf("To = %q (%v), want one line naming only %s", msg.Header.Get("To"), err, to)
	}
	if len(msg.Header["Subject"]) != 1 || len(msg.Header["To"]) != 1 || len(msg.Header["From"]) != 1 {
		t.Errorf("Subject, To or From repeated: %q %q %q", msg.Header["Subject"], msg.Header["To"], msg.Header["From"])
	}
}

func decodedSubject(t *testing.T, m mailtest.Received) string {
	t.Helper()
	msg, err := m.Parse()
	if err != nil {
		t.Fatal(err)
	}
	s, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q does not decode: %v", msg.Header.Get("Subject"), err)
	}
	return s
}
