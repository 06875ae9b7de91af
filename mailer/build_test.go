package mailer_test

import (
	"bytes"
	"context"
	"net/mail"
	"strings"
	"testing"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

const injection = "\r\nBcc: x@y"

func injected() *mailer.Message {
	m := newMessage("ann@example.net")
	m.Subject = "Hello" + injection
	m.ToName = "Ann" + injection
	m.From = `"Daily Brief` + injection + `" <news@example.org>`
	m.Headers["List-Unsubscribe"] = "<https://example.org/u/abc>" + injection
	return m
}

// checkNoInjection parses raw and checks it has exactly the expected
// headers, none of them Bcc.
func checkNoInjection(t *testing.T, raw []byte) {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := msg.Header["Bcc"]; ok {
		t.Fatalf("a Bcc header got in:\n%s", raw)
	}
	// Date, Message-ID, MIME-Version, From, To, Subject, List-Unsubscribe, Content-Type.
	if len(msg.Header) != 8 {
		t.Errorf("%d header fields, want 8: %v", len(msg.Header), msg.Header)
	}
	for name, values := range msg.Header {
		if len(values) != 1 {
			t.Errorf("header %s appears %d times", name, len(values))
		}
	}
	if got := msg.Header.Get("List-Unsubscribe"); got != "<https://example.org/u/abc> Bcc: x@y" {
		t.Errorf("List-Unsubscribe = %q", got)
	}
}

func TestHeaderInjectionIsDefused(t *testing.T) {
	raw, err := mailer.Bytes(injected())
	if err != nil {
		t.Fatal(err)
	}
	checkNoInjection(t, raw)
}

func TestHeaderInjectionOverSMTP(t *testing.T) {
	srv := mailtest.MustStart(t)
	if err := newSender(t, srv).Send(context.Background(), injected()); err != nil {
		t.Fatal(err)
	}
	r := srv.WaitFor(t, 1, wait)[0]
	if len(r.To) != 1 || r.To[0] != "ann@example.net" {
		t.Fatalf("envelope recipients %q, want only ann@example.net", r.To)
	}
	checkNoInjection(t, r.Data)
}

func TestBuildRejects(t *testing.T) {
	for name, edit := range map[string]func(*mailer.Message){
		"unquoted name with line break in From": func(m *mailer.Message) { m.From = "Daily" + injection + " <news@example.org>" },
		"line break in To":                      func(m *mailer.Message) { m.To = "ann@example.net" + injection },
		"name in To":                            func(m *mailer.Message) { m.To = "Ann <ann@example.net>" },
		"empty From":                            func(m *mailer.Message) { m.From = "" },
		"bad To":                                func(m *mailer.Message) { m.To = "not an address" },
		"Bcc header":                            func(m *mailer.Message) { m.Headers["bcc"] = "x@y" },
		"Subject header":                        func(m *mailer.Message) { m.Headers["Subject"] = "again" },
		"DKIM-Signature header":                 func(m *mailer.Message) { m.Headers["DKIM-Signature"] = "v=1" },
		"space in header name":                  func(m *mailer.Message) { m.Headers["X Bad"] = "v" },
		"colon in header name":                  func(m *mailer.Message) { m.Headers["X-Bad:"] = "v" },
		"line break in header name":             func(m *mailer.Message) { m.Headers["X-A\r\nBcc"] = "v" },
		"header name starting with a dot":       func(m *mailer.Message) { m.Headers[".X-Dot"] = "v" },
		"Message-ID without host":               func(m *mailer.Message) { m.MessageID = "<abc>" },
		"Message-ID with space":                 func(m *mailer.Message) { m.MessageID = "<a b@example.org>" },
		"no body":                               func(m *mailer.Message) { m.Text, m.HTML = "", "" },
	} {
		t.Run(name, func(t *testing.T) {
			m := newMessage("ann@example.net")
			edit(m)
			if _, err := mailer.Build(m); err == nil {
				t.Fatal("Build succeeded")
			}
		})
	}
	if _, err := mailer.Build(nil); err == nil {
		t.Fatal("Build(nil) succeeded")
	}
}

func TestBuildMessageID(t *testing.T) {
	m := newMessage("ann@example.net")
	m.MessageID = "<issue-42.ann@news.example.org>"
	msg, err := mailer.Build(m)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.GetMessageID(); got != m.MessageID {
		t.Fatalf("Message-ID %q, want %q", got, m.MessageID)
	}
}

func TestBuildSinglePart(t *testing.T) {
	m := newMessage("ann@example.net")
	m.HTML = ""
	raw, err := mailer.Bytes(m)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if ct := msg.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("Content-Type %q, want text/plain", ct)
	}
}
