package mailer_test

import (
	"bytes"
	"mime"
	"net/mail"
	"strings"
	"testing"
	"time"

	"newsletter/mailer"
)

// subjects are editors' subjects a mail client must show exactly as
// written: encoded-word look-alikes among them (issue 17, item 11).
var subjects = []string{
	"Morning briefing",
	"Tous les matins: l'essentiel ☕",
	"Budget =?utf-8?q?=46REE_MONEY?= vote tonight",
	"=?UTF-8?B?SGFja2Vk?=",
	"A subject long enough to need more than one encoded word =? when every character counts, " + strings.Repeat("é", 40),
}

// decodedSubject reads the Subject of raw as a mail client does.
func decodedSubject(t *testing.T, raw []byte) string {
	t.Helper()
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	got, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil {
		t.Fatalf("Subject %q does not decode: %v", msg.Header.Get("Subject"), err)
	}
	for _, line := range strings.Split(string(raw), "\r\n") {
		if strings.HasPrefix(line, "Subject:") && len(line) > 998 {
			t.Errorf("Subject line of %d characters", len(line))
		}
	}
	return got
}

// TestSubjectDecodesToWhatTheEditorWrote checks both ways a message is
// made (Build for single emails, Template for digests).
func TestSubjectDecodesToWhatTheEditorWrote(t *testing.T) {
	for _, subject := range subjects {
		m := newMessage("ann@example.net")
		m.Subject = subject
		msg, err := mailer.Build(m)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if _, err := msg.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		if got := decodedSubject(t, buf.Bytes()); got != subject {
			t.Errorf("Build: Subject decodes to %q, want %q", got, subject)
		}

		tpl, err := mailer.NewTemplate(&mailer.Message{From: "news@example.org", Subject: subject, Text: "Hello"})
		if err != nil {
			t.Fatal(err)
		}
		raw, err := tpl.Append(nil, &mailer.Personal{To: "ann@example.net", MessageID: "<1@example.org>"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := decodedSubject(t, raw); got != subject {
			t.Errorf("Template: Subject decodes to %q, want %q", got, subject)
		}
	}
}

// FuzzSubject: any one-line subject decodes back to itself.
func FuzzSubject(f *testing.F) {
	for _, s := range subjects {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, subject string) {
		if !utf8Printable(subject) {
			return
		}
		tpl, err := mailer.NewTemplate(&mailer.Message{From: "news@example.org", Subject: subject, Text: "Hello"})
		if err != nil {
			return
		}
		raw, err := tpl.Append(nil, &mailer.Personal{To: "ann@example.net", MessageID: "<1@example.org>"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got := decodedSubject(t, raw); got != strings.TrimSpace(subject) && got != subject {
			t.Errorf("Subject %q decodes to %q", subject, got)
		}
	})
}

// utf8Printable reports whether s is valid UTF-8 without control
// characters: a subject the builder keeps as it is.
func utf8Printable(s string) bool {
	for _, r := range s {
		if r < ' ' || r == 0x7f || r == 0xfffd {
			return false
		}
	}
	return true
}
