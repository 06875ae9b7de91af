package mailer_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

const streamFrom = "news@example.org"

func streamMessage(to string) []byte {
	return []byte("Subject: for " + to + "\r\n\r\nHello " + to + ".\r\n.a dot line\r\n")
}

// sendStream sends one message to each of to over st, each opening the
// next one's transaction, and returns the errors by recipient.
func sendStream(t *testing.T, st mailer.Stream, to []string) map[string]error {
	t.Helper()
	errs := map[string]error{}
	for i, rcpt := range to {
		next := ""
		if i+1 < len(to) {
			next = to[i+1]
		}
		if err := st.Send(context.Background(), mailer.Outgoing{From: streamFrom, To: rcpt, Msg: streamMessage(rcpt), Next: next}); err != nil {
			errs[rcpt] = err
		}
	}
	return errs
}

// mustStream opens a Stream on a one-connection pool to srv.
func mustStream(t *testing.T, srv *plainServer) mailer.Stream {
	t.Helper()
	cfg, err := mailer.ParseSMTPURL("smtp://" + srv.ln.Addr().String() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	p := mailer.NewPool(cfg, 1)
	t.Cleanup(func() { _ = p.Close() })
	st, err := p.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func recipients(msgs []mailtest.Received) []string {
	var to []string
	for _, m := range msgs {
		to = append(to, m.To...)
	}
	return to
}

// TestStreamPipelinesTheNextTransaction: each message's write carries the
// next recipient's commands, so the server has them before it answers the
// message; the last message, with no next, waits for its answer.
func TestStreamPipelinesTheNextTransaction(t *testing.T) {
	srv := startServer(t, true)
	st := mustStream(t, srv)
	to := []string{"a@example.net", "b@example.net", "c@example.net", "d@example.net"}
	if errs := sendStream(t, st, to); len(errs) > 0 {
		t.Fatal(errs)
	}
	_ = st.Close()
	commands, messages := srv.seen()
	srv.mu.Lock()
	ahead := slices.Clone(srv.ahead)
	srv.mu.Unlock()
	if !slices.Equal(ahead, []bool{true, true, true, false}) {
		t.Errorf("next command came before the answer: %v, want [true true true false]", ahead)
	}
	for i, m := range messages {
		if want := strings.ReplaceAll(string(streamMessage(to[i])), "\r\n", "\n"); m != want {
			t.Errorf("message %d = %q, want %q", i, m, want)
		}
	}
	var rcpts []string
	for _, c := range commands {
		if r, ok := strings.CutPrefix(c, "RCPT TO:<"); ok {
			rcpts = append(rcpts, strings.TrimSuffix(r, ">"))
		}
	}
	if !slices.Equal(rcpts, to) {
		t.Errorf("RCPT TO %v, want %v", rcpts, to)
	}
}

// TestStreamCloseAbandonsTheOpenedTransaction: a transaction opened for a
// message that never comes ends with the connection, and delivers nothing;
// the pool's connection works again for the next send, even one to the
// same recipient, over a new session.
func TestStreamCloseAbandonsTheOpenedTransaction(t *testing.T) {
	srv := mailtest.MustStart(t)
	p := newPool(t, mustConfig(t, srv), 1)
	st, err := p.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	m := mailer.Outgoing{From: streamFrom, To: "a@example.net", Msg: streamMessage("a@example.net"), Next: "b@example.net"}
	if err := st.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.SendRaw(context.Background(), streamFrom, "b@example.net", streamMessage("b@example.net")); err != nil {
		t.Fatal(err)
	}
	_ = p.Close()
	if got := recipients(srv.Messages()); !slices.Equal(got, []string{"a@example.net", "b@example.net"}) {
		t.Errorf("delivered to %v, want a and b", got)
	}
	if n := srv.Sessions(); n != 2 {
		t.Errorf("%d sessions, want 2 (the abandoned one and a new one)", n)
	}
}

// TestStreamSendToAnotherRecipientAbandons: a Send for someone other than
// the opened recipient abandons that transaction and still delivers; so
// does Close, after which a send to the opened recipient takes a new
// session.
func TestStreamSendToAnotherRecipientAbandons(t *testing.T) {
	srv := mailtest.MustStart(t)
	s := newSender(t, srv)
	st, err := s.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, to := range []string{"a@example.net", "c@example.net"} {
		m := mailer.Outgoing{From: streamFrom, To: to, Msg: streamMessage(to), Next: "b@example.net"}
		if err := st.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	_ = st.Close()
	if err := s.SendRaw(context.Background(), streamFrom, "b@example.net", streamMessage("b@example.net")); err != nil {
		t.Fatal(err)
	}
	_ = s.Close()
	if got := recipients(srv.Messages()); !slices.Equal(got, []string{"a@example.net", "c@example.net", "b@example.net"}) {
		t.Errorf("delivered to %v, want a, c and b", got)
	}
	if n := srv.Sessions(); n != 3 {
		t.Errorf("%d sessions, want 3 (c's Send and Close each abandoned one)", n)
	}
}

// TestStreamRefusalsKeepTheRun: a refused opened recipient, and a refused
// message whose write opened the next transaction, fail only themselves.
func TestStreamRefusalsKeepTheRun(t *testing.T) {
	srv := mailtest.MustStart(t)
	srv.SetReply(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == "gone@example.net" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	srv.SetDataReply(func(r mailtest.Received) *smtp.SMTPError {
		if r.To[0] == "spam@example.net" {
			return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "looks like spam"}
		}
		return nil
	})
	p := newPool(t, mustConfig(t, srv), 1)
	st, err := p.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	to := []string{"a@example.net", "gone@example.net", "b@example.net", "spam@example.net", "c@example.net"}
	errs := sendStream(t, st, to)
	_ = st.Close()
	if c := mailer.Classify(errs["gone@example.net"]); c != mailer.HardBounce {
		t.Errorf("gone: %v (%v), want a hard bounce", errs["gone@example.net"], c)
	}
	if c := mailer.Classify(errs["spam@example.net"]); c != mailer.Policy {
		t.Errorf("spam: %v (%v), want a policy refusal", errs["spam@example.net"], c)
	}
	if len(errs) != 2 {
		t.Errorf("errors %v, want only gone and spam", errs)
	}
	if got := recipients(srv.Messages()); !slices.Equal(got, []string{"a@example.net", "b@example.net", "c@example.net"}) {
		t.Errorf("delivered to %v, want a, b and c", got)
	}
	if n := srv.Sessions(); n != 1 {
		t.Errorf("%d sessions, want 1", n)
	}
}

// TestStreamWithoutPipelining: a server without PIPELINING gets one
// command at a time and every message.
func TestStreamWithoutPipelining(t *testing.T) {
	srv := startPlainServer(t)
	cfg, err := mailer.ParseSMTPURL("smtp://" + srv.ln.Addr().String() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	s := mailer.NewSMTP(cfg)
	t.Cleanup(func() { _ = s.Close() })
	st, err := s.Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	to := []string{"a@example.net", "b@example.net", "c@example.net"}
	if errs := sendStream(t, st, to); len(errs) > 0 {
		t.Fatal(errs)
	}
	_ = st.Close()
	_ = s.Close()
	commands, messages := srv.seen()
	if len(messages) != 3 {
		t.Fatalf("%d messages, want 3", len(messages))
	}
	if !slices.Contains(commands, "QUIT") {
		t.Errorf("commands %q: no QUIT, so the connection was abandoned", commands)
	}
}

// TestStreamOutbox writes each message into the outbox folder.
func TestStreamOutbox(t *testing.T) {
	dir := t.TempDir()
	st, err := mailer.NewOutbox(dir).Stream(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if errs := sendStream(t, st, []string{"a@example.net", "b@example.net"}); len(errs) > 0 {
		t.Fatal(errs)
	}
	_ = st.Close()
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	var got []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, strings.SplitN(string(b), "\r\n", 2)[0])
	}
	slices.Sort(got)
	if want := []string{"Subject: for a@example.net", "Subject: for b@example.net"}; !slices.Equal(got, want) {
		t.Errorf("outbox holds %q, want %q", got, want)
	}
}

// TestStreamPipelinesTheNextEnvelopeSender: with a next envelope sender of
// its own (VERP: one per recipient), the pipelined MAIL FROM of the next
// transaction is that sender, and the next Send finds it opened.
func TestStreamPipelinesTheNextEnvelopeSender(t *testing.T) {
	srv := startServer(t, true)
	st := mustStream(t, srv)
	to := []string{"a@example.net", "b@example.net", "c@example.net"}
	from := func(rcpt string) string { return "bounces+" + rcpt[:1] + "@bounce.example.org" }
	for i, rcpt := range to {
		out := mailer.Outgoing{From: from(rcpt), To: rcpt, Msg: streamMessage(rcpt)}
		if i+1 < len(to) {
			out.Next, out.NextFrom = to[i+1], from(to[i+1])
		}
		if err := st.Send(context.Background(), out); err != nil {
			t.Fatalf("send to %s: %v", rcpt, err)
		}
	}
	_ = st.Close()
	commands, _ := srv.seen()
	var mails []string
	for _, c := range commands {
		if f, ok := strings.CutPrefix(c, "MAIL FROM:<"); ok {
			mails = append(mails, f[:strings.IndexByte(f, '>')])
		}
	}
	if want := []string{from(to[0]), from(to[1]), from(to[2])}; !slices.Equal(mails, want) {
		t.Errorf("MAIL FROM %v, want %v (one pipelined per message, nothing abandoned)", mails, want)
	}
	srv.mu.Lock()
	ahead := slices.Clone(srv.ahead)
	srv.mu.Unlock()
	if !slices.Equal(ahead, []bool{true, true, false}) {
		t.Errorf("pipelined ahead: %v, want [true true false]", ahead)
	}
}
