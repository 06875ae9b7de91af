package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

const wait = 5 * time.Second

func newMessage(to string) *mailer.Message {
	return &mailer.Message{
		From:    "Daily Brief <news@example.org>",
		To:      to,
		ToName:  "Ann Reader",
		Subject: "Today's brief",
		Text:    "Hello in text.",
		HTML:    "<p>Hello in <b>HTML</b>.</p>",
		Headers: map[string]string{"List-Unsubscribe": "<https://example.org/u/abc>"},
	}
}

// mustConfig returns the config of srv, with a Timeout of wait.
func mustConfig(t *testing.T, srv *mailtest.Server) mailer.SMTPConfig {
	t.Helper()
	cfg, err := mailer.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = wait
	return cfg
}

// newSender returns an SMTP sender for srv, closed at test cleanup.
func newSender(t *testing.T, srv *mailtest.Server) *mailer.SMTP {
	t.Helper()
	s := mailer.NewSMTP(mustConfig(t, srv))
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func reject(code int, enhanced smtp.EnhancedCode) mailtest.Reply {
	return func(string, int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: code, EnhancedCode: enhanced, Message: "no"}
	}
}

func TestSMTPSendDelivers(t *testing.T) {
	srv := mailtest.MustStart(t)
	s := newSender(t, srv)
	if err := s.Send(context.Background(), newMessage("ann@example.net")); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	got := srv.WaitFor(t, 1, wait)
	if len(got) != 1 || srv.Count() != 1 {
		t.Fatalf("%d messages arrived, want 1", srv.Count())
	}
	if got[0].From != "news@example.org" || strings.Join(got[0].To, ",") != "ann@example.net" {
		t.Errorf("envelope %q -> %q", got[0].From, got[0].To)
	}
	msg, err := got[0].Parse()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"From", "To", "Subject", "Date", "Message-Id", "Mime-Version"} {
		if msg.Header.Get(h) == "" {
			t.Errorf("header %s missing", h)
		}
	}
	if got := msg.Header.Get("To"); got != `"Ann Reader" <ann@example.net>` {
		t.Errorf("To = %q", got)
	}
	if !strings.HasSuffix(msg.Header.Get("Message-Id"), "@example.org>") {
		t.Errorf("Message-ID %q is not at the From domain", msg.Header.Get("Message-Id"))
	}
	checkAlternative(t, msg, "Hello in text.", "<p>Hello in <b>HTML</b>.</p>")
}

// checkAlternative checks that msg is multipart/alternative with a
// text/plain then a text/html part holding text and html.
func checkAlternative(t *testing.T, msg *mail.Message, text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for _, want := range []struct{ typ, body string }{{"text/plain", text}, {"text/html", html}} {
		p, err := r.NextPart()
		if err != nil {
			t.Fatalf("part %s: %v", want.typ, err)
		}
		typ, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		body, _ := io.ReadAll(p)
		if typ != want.typ || strings.TrimSpace(string(body)) != want.body {
			t.Errorf("part %s: got %s %q", want.typ, typ, body)
		}
	}
	if _, err := r.NextPart(); err != io.EOF {
		t.Errorf("more than two parts: %v", err)
	}
}

func TestSMTPWithCredentials(t *testing.T) {
	srv := mailtest.MustStart(t)
	cfg, err := mailer.ParseSMTPURL(strings.Replace(srv.URL(), "smtp://", "smtp://user:p%40ss@", 1))
	if err != nil {
		t.Fatal(err)
	}
	s := mailer.NewSMTP(cfg)
	defer s.Close()
	if err := s.Send(context.Background(), newMessage("ann@example.net")); err != nil {
		t.Fatalf("Send with AUTH: %v", err)
	}
	srv.WaitFor(t, 1, wait)
}

func TestSMTPPermanentRejection(t *testing.T) {
	srv := mailtest.MustStart(t)
	srv.SetReply(reject(550, smtp.EnhancedCode{5, 1, 1}))
	s := newSender(t, srv)
	err := s.Send(context.Background(), newMessage("gone@example.net"))
	if code, enhanced := mailer.ReplyCode(err); code != 550 || enhanced != "5.1.1" {
		t.Fatalf("Send error %v: code %d %q, want 550 5.1.1", err, code, enhanced)
	}
	if mailer.IsTemporary(err) {
		t.Errorf("IsTemporary(%v) = true", err)
	}
	srv.SetReply(nil)
	if err := s.Send(context.Background(), newMessage("ann@example.net")); err != nil {
		t.Fatalf("Send after a rejection: %v", err)
	}
	if n := srv.WaitFor(t, 1, wait); len(n) != 1 {
		t.Fatalf("%d messages, want 1", len(n))
	}
	if n := srv.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1: a refused recipient must not cost a reconnect", n)
	}
}

func TestSMTPTemporaryRejection(t *testing.T) {
	srv := mailtest.MustStart(t)
	srv.SetReply(reject(451, smtp.EnhancedCode{4, 3, 0}))
	err := newSender(t, srv).Send(context.Background(), newMessage("ann@example.net"))
	if code, _ := mailer.ReplyCode(err); code != 451 || !mailer.IsTemporary(err) {
		t.Fatalf("Send error %v: want a 451 reply that is Temporary", err)
	}
}

func TestSMTPSendsTwentyInARow(t *testing.T) {
	srv := mailtest.MustStart(t)
	s := newSender(t, srv)
	for i := range 20 {
		m := newMessage(fmt.Sprintf("r%d@example.net", i))
		if err := s.Send(context.Background(), m); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	ids := map[string]bool{}
	for i, r := range srv.WaitFor(t, 20, wait) {
		if want := fmt.Sprintf("r%d@example.net", i); r.To[0] != want {
			t.Errorf("message %d to %s, want %s", i, r.To[0], want)
		}
		ids[r.Header("Message-Id")] = true
	}
	if len(ids) != 20 {
		t.Errorf("%d distinct Message-IDs, want 20", len(ids))
	}
	if n := srv.Sessions(); n != 1 {
		t.Errorf("%d SMTP sessions, want 1 (the connection is kept)", n)
	}
}

func TestSMTPKeepsConnectionPastTimeout(t *testing.T) {
	srv := mailtest.MustStart(t)
	cfg, err := mailer.ParseSMTPURL(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Timeout = 100 * time.Millisecond
	s := mailer.NewSMTP(cfg)
	defer s.Close()
	for i := range 2 {
		if err := s.Send(context.Background(), newMessage("ann@example.net")); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
		time.Sleep(2 * cfg.Timeout) // idle for longer than the command timeout
	}
	if n := srv.Sessions(); n != 1 {
		t.Errorf("%d SMTP sessions, want 1", n)
	}
}

func TestSMTPTLSModesNeedTLS(t *testing.T) {
	srv := mailtest.MustStart(t) // speaks neither STARTTLS nor TLS
	for _, mode := range []string{"starttls", "tls"} {
		cfg, err := mailer.ParseSMTPURL(strings.Replace(srv.URL(), "tls=none", "tls="+mode, 1))
		if err != nil {
			t.Fatal(err)
		}
		s := mailer.NewSMTP(cfg)
		err = s.Send(context.Background(), newMessage("ann@example.net"))
		if err == nil || mailer.IsTemporary(err) {
			t.Errorf("tls=%s against a plain server: %v, want a permanent error", mode, err)
		}
		_ = s.Close()
	}
	if srv.Count() != 0 {
		t.Fatal("a message arrived in the clear")
	}
}

func TestSMTPReconnectsAfterServerRestart(t *testing.T) {
	srv, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newSender(t, srv)
	if err := s.Send(context.Background(), newMessage("ann@example.net")); err != nil {
		t.Fatalf("first Send: %v", err)
	}
	addr := srv.Addr()
	if err := srv.Close(); err != nil { // cuts the sender's kept connection
		t.Fatal(err)
	}
	srv, err = mailtest.Start(addr)
	if err != nil {
		t.Skipf("cannot listen on %s again: %v", addr, err)
	}
	defer srv.Close()
	if err := s.Send(context.Background(), newMessage("ann@example.net")); err != nil {
		t.Fatalf("Send after the server restarted: %v", err)
	}
	srv.WaitFor(t, 1, wait)
}

func TestSMTPConnectionRefusedIsTemporary(t *testing.T) {
	srv, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newSender(t, srv)
	if err := srv.Close(); err != nil {
		t.Fatal(err)
	}
	err = s.Send(context.Background(), newMessage("ann@example.net"))
	if err == nil || !mailer.IsTemporary(err) {
		t.Fatalf("Send to a closed port: %v, want a temporary error", err)
	}
}

func TestSMTPCancelledContext(t *testing.T) {
	srv := mailtest.MustStart(t)
	s := newSender(t, srv)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := s.Send(ctx, newMessage("ann@example.net"))
	if !errors.Is(err, context.Canceled) || !mailer.IsTemporary(err) {
		t.Fatalf("Send with a cancelled context: %v", err)
	}
	if srv.Count() != 0 {
		t.Fatal("a message arrived")
	}
}

func TestSMTPClosed(t *testing.T) {
	s := newSender(t, mailtest.MustStart(t))
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), newMessage("ann@example.net")); !errors.Is(err, mailer.ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestSMTPBadConfig(t *testing.T) {
	s := mailer.NewSMTP(mailer.SMTPConfig{Host: "localhost", TLS: "ssl"})
	defer s.Close()
	err := s.Send(context.Background(), newMessage("ann@example.net"))
	if err == nil || !strings.Contains(err.Error(), `unknown tls mode "ssl"`) {
		t.Fatalf("Send with a bad TLS mode: %v", err)
	}
}

func TestSMTPNonASCIISubject(t *testing.T) {
	srv := mailtest.MustStart(t)
	m := newMessage("ann@example.net")
	m.Subject = "Grüße aus Köln ☕"
	if err := newSender(t, srv).Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := srv.WaitFor(t, 1, wait)[0]
	raw := r.Header("Subject")
	if !strings.HasPrefix(raw, "=?UTF-8?") {
		t.Errorf("Subject %q is not an encoded word", raw)
	}
	head, _, _ := strings.Cut(string(r.Data), "\r\n\r\n")
	for i := 0; i < len(head); i++ {
		if head[i] > 127 {
			t.Fatalf("header section has a non-ASCII byte: %q", head)
		}
	}
	if got, err := new(mime.WordDecoder).DecodeHeader(raw); err != nil || got != m.Subject {
		t.Errorf("decoded Subject %q (%v), want %q", got, err, m.Subject)
	}
}

func TestSMTPContextEndsMidSend(t *testing.T) {
	srv := mailtest.MustStart(t)
	release := make(chan struct{})
	defer close(release) // before the server's cleanup, which waits for the stalled session
	srv.SetReply(func(string, int) *smtp.SMTPError {
		<-release
		return nil
	})
	s := newSender(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := s.Send(ctx, newMessage("ann@example.net"))
	if !errors.Is(err, context.DeadlineExceeded) || !mailer.IsTemporary(err) {
		t.Fatalf("Send: %v, want a temporary error wrapping context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("Send took %v after its context ended", d)
	}
}
