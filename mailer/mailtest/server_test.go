package mailtest_test

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.uber.org/goleak"

	"newsletter/mailer/mailtest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func rawMessage(subject string) string {
	return "From: a@example.org\r\nTo: b@example.org\r\nSubject: " + subject + "\r\n\r\nHello.\r\n"
}

// send delivers one message without TLS (go-smtp's SendMail insists on
// STARTTLS).
func send(t *testing.T, s *mailtest.Server, auth sasl.Client, to []string, subject string) error {
	t.Helper()
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if auth != nil {
		if err := c.Auth(auth); err != nil {
			return err
		}
	}
	if err := c.SendMail("a@example.org", to, strings.NewReader(rawMessage(subject))); err != nil {
		return err
	}
	return c.Quit()
}

func TestCountMessagesReset(t *testing.T) {
	s := mailtest.MustStart(t)
	for i := range 3 {
		if err := send(t, s, nil, []string{"b@example.org"}, fmt.Sprint("n", i)); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	msgs := s.WaitFor(t, 3, 5*time.Second)
	if s.Count() != 3 || len(msgs) != 3 || s.Sessions() != 3 {
		t.Fatalf("Count() = %d, WaitFor gave %d, Sessions() = %d, want 3", s.Count(), len(msgs), s.Sessions())
	}
	for i, m := range msgs {
		if m.From != "a@example.org" || len(m.To) != 1 || m.To[0] != "b@example.org" {
			t.Errorf("message %d: envelope %q -> %q", i, m.From, m.To)
		}
		if got, want := m.Header("Subject"), fmt.Sprint("n", i); got != want {
			t.Errorf("message %d: Subject %q, want %q", i, got, want)
		}
		if m.At.IsZero() {
			t.Errorf("message %d: At is zero", i)
		}
	}
	msgs[0].To[0] = "changed"
	if s.Messages()[0].To[0] != "b@example.org" {
		t.Error("Messages does not return a copy")
	}
	s.Reset()
	if s.Count() != 0 || len(s.Messages()) != 0 || s.Sessions() != 0 {
		t.Fatalf("after Reset: Count() = %d, Sessions() = %d", s.Count(), s.Sessions())
	}
}

func TestAuthPlainAnyCredentials(t *testing.T) {
	s := mailtest.MustStart(t)
	if err := send(t, s, sasl.NewPlainClient("", "user", "whatever"), []string{"b@example.org"}, "auth"); err != nil {
		t.Fatalf("send with AUTH PLAIN: %v", err)
	}
	s.WaitFor(t, 1, 5*time.Second)
}

func TestReplyRejectsSomeRecipients(t *testing.T) {
	s := mailtest.MustStart(t)
	s.SetReply(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == "nobody@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	c, err := smtp.Dial(s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("a@example.org", nil); err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"b@example.org", "nobody@example.org", "c@example.org"} {
		err := c.Rcpt(rcpt, nil)
		var se *smtp.SMTPError
		if rcpt == "nobody@example.org" && (!errors.As(err, &se) || se.Code != 550) {
			t.Fatalf("RCPT %s: err %v, want 550", rcpt, err)
		}
		if rcpt != "nobody@example.org" && err != nil {
			t.Fatalf("RCPT %s: %v", rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte(rawMessage("multi"))); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	msgs := s.WaitFor(t, 1, 5*time.Second)
	if got := strings.Join(msgs[0].To, ","); got != "b@example.org,c@example.org" {
		t.Fatalf("To = %s, want the two accepted recipients", got)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
}

func TestReplyAttemptCounts(t *testing.T) {
	s := mailtest.MustStart(t)
	var seen []int
	s.SetReply(func(_ string, attempt int) *smtp.SMTPError {
		seen = append(seen, attempt)
		if attempt == 1 {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	})
	var se *smtp.SMTPError
	if err := send(t, s, nil, []string{"b@example.org"}, "1"); !errors.As(err, &se) || se.Code != 451 {
		t.Fatalf("first send: %v, want 451", err)
	}
	if err := send(t, s, nil, []string{"b@example.org"}, "2"); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if s.Count() != 1 || fmt.Sprint(seen) != "[1 2]" {
		t.Fatalf("Count() = %d, attempts %v; want 1 and [1 2]", s.Count(), seen)
	}
	s.Reset()
	if err := send(t, s, nil, []string{"b@example.org"}, "3"); err == nil {
		t.Fatal("after Reset the attempt count should start again at 1")
	}
}

type recordTB struct {
	testing.TB
	fatal string
}

func (r *recordTB) Fatalf(format string, args ...any) { r.fatal = fmt.Sprintf(format, args...) }

func TestWaitForTimeout(t *testing.T) {
	s := mailtest.MustStart(t)
	tb := &recordTB{TB: t}
	if got := s.WaitFor(tb, 1, 50*time.Millisecond); got != nil {
		t.Fatalf("WaitFor returned %v", got)
	}
	if !strings.Contains(tb.fatal, "want at least 1") {
		t.Fatalf("failure message %q", tb.fatal)
	}
}

func TestCloseCutsIdleConnections(t *testing.T) {
	s, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s.URL(), "smtp://127.0.0.1:") || !strings.HasSuffix(s.URL(), "?tls=none") {
		t.Errorf("URL() = %q", s.URL())
	}
	conn, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	done := make(chan error, 1)
	go func() { done <- s.Close() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a client connected")
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestDataReplyRejectsAtEndOfData(t *testing.T) {
	s := mailtest.MustStart(t)
	var seen []string
	s.SetDataReply(func(r mailtest.Received) *smtp.SMTPError {
		seen = append(seen, r.Header("Subject"))
		if r.Header("Subject") == "refused" {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 26}, Message: "DMARC"}
		}
		return nil
	})
	var se *smtp.SMTPError
	if err := send(t, s, nil, []string{"b@example.org"}, "refused"); !errors.As(err, &se) || se.Code != 554 {
		t.Fatalf("send: %v, want 554", err)
	}
	if err := send(t, s, nil, []string{"b@example.org"}, "accepted"); err != nil {
		t.Fatalf("send: %v", err)
	}
	msgs := s.WaitFor(t, 1, 5*time.Second)
	if len(msgs) != 1 || msgs[0].Header("Subject") != "accepted" || fmt.Sprint(seen) != "[refused accepted]" {
		t.Fatalf("recorded %d message(s), DataReply saw %v", len(msgs), seen)
	}
}
