package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

// newPool returns a Pool for cfg, closed at test cleanup.
func newPool(t *testing.T, cfg mailer.SMTPConfig, size int) *mailer.Pool {
	t.Helper()
	p := mailer.NewPool(cfg, size)
	t.Cleanup(func() { _ = p.Close() })
	return p
}

// stallRCPT makes srv hold every RCPT TO until release is called or the
// test ends (before srv's cleanup, which waits for its sessions). entered
// receives once per stalled RCPT.
func stallRCPT(t *testing.T, srv *mailtest.Server) (entered <-chan struct{}, release func()) {
	ch, done := make(chan struct{}, 16), make(chan struct{})
	release = sync.OnceFunc(func() { close(done) })
	t.Cleanup(release)
	srv.SetReply(func(string, int) *smtp.SMTPError {
		ch <- struct{}{}
		<-done
		return nil
	})
	return ch, release
}

// sendAll sends n messages to distinct recipients over p from senders
// goroutines at once, and returns the errors.
func sendAll(p *mailer.Pool, senders, n int, send func(*mailer.Pool, *mailer.Message) error) []error {
	var next atomic.Int64
	var mu sync.Mutex
	var errs []error
	var wg sync.WaitGroup
	for range senders {
		wg.Go(func() {
			for i := next.Add(1); i <= int64(n); i = next.Add(1) {
				if err := send(p, newMessage(fmt.Sprintf("r%d@example.net", i))); err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return errs
}

func sendOnce(p *mailer.Pool, m *mailer.Message) error { return p.Send(context.Background(), m) }

func TestPoolSize(t *testing.T) {
	for size, want := range map[int]int{0: 4, -3: 4, 1: 1, 7: 7} {
		p := mailer.NewPool(mailer.SMTPConfig{Host: "localhost"}, size)
		if got := p.Size(); got != want {
			t.Errorf("NewPool(cfg, %d).Size() = %d, want %d", size, got, want)
		}
		_ = p.Close()
	}
}

func TestPoolSendsOverSizeConnections(t *testing.T) {
	srv := mailtest.MustStart(t)
	p := newPool(t, mustConfig(t, srv), 4)
	for _, err := range sendAll(p, 4, 200, sendOnce) {
		t.Error(err)
	}
	msgs := srv.WaitFor(t, 200, wait)
	to := map[string]bool{}
	for _, m := range msgs {
		to[m.To[0]] = true
	}
	if len(msgs) != 200 || len(to) != 200 {
		t.Errorf("%d messages to %d recipients, want 200 to 200", len(msgs), len(to))
	}
	if n := srv.Sessions(); n != 4 {
		t.Errorf("%d SMTP sessions, want 4", n)
	}
}

// sendRetrying sends m, trying again a few times while the error is
// temporary, as the worker does.
func sendRetrying(p *mailer.Pool, m *mailer.Message) error {
	for range 50 {
		err := p.Send(context.Background(), m)
		if err == nil || !mailer.IsTemporary(err) {
			return err
		}
		time.Sleep(10 * time.Millisecond)
	}
	return errors.New("still failing")
}

func TestPoolSurvivesServerRestartMidRun(t *testing.T) {
	srv, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(t, mustConfig(t, srv), 4)
	var restarted *mailtest.Server
	done := make(chan []error)
	go func() { done <- sendAll(p, 4, 300, sendRetrying) }()
	before := srv.WaitFor(t, 50, wait)
	if err := srv.Close(); err != nil { // cuts the pool's connections mid-send
		t.Fatal(err)
	}
	if restarted, err = mailtest.Start(srv.Addr()); err != nil {
		<-done
		t.Skipf("cannot listen on %s again: %v", srv.Addr(), err)
	}
	defer restarted.Close()
	for _, err := range <-done {
		t.Errorf("Send after retries: %v", err)
	}
	to := map[string]bool{}
	for _, m := range append(srv.Messages(), restarted.Messages()...) {
		to[m.To[0]] = true
	}
	if len(to) != 300 {
		t.Errorf("%d recipients got the message, want 300 (%d before the restart)", len(to), len(before))
	}
	if n := restarted.Sessions(); n < 1 || n > 4 {
		t.Errorf("%d SMTP sessions after the restart, want 1 to 4", n)
	}
}

func TestPoolReconnectsAfter421(t *testing.T) {
	srv := mailtest.MustStart(t)
	// go-smtp answers 421 and keeps the connection open; the pool drops a
	// connection after any failure all the same.
	srv.SetReply(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == "drop@example.net" {
			return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "closing"}
		}
		return nil
	})
	p := newPool(t, mustConfig(t, srv), 1)
	for _, to := range []string{"a@example.net", "drop@example.net", "b@example.net", "c@example.net"} {
		err := p.Send(context.Background(), newMessage(to))
		if want := to == "drop@example.net"; (err != nil) != want {
			t.Fatalf("Send to %s: %v", to, err)
		}
		if c := mailer.Classify(err); err != nil && c != mailer.SlowDown {
			t.Fatalf("Classify(%v) = %v, want slow_down", err, c)
		}
	}
	srv.WaitFor(t, 3, wait)
	if n := srv.Sessions(); n != 2 {
		t.Errorf("%d SMTP sessions, want 2 (one new after the 421)", n)
	}
}

func TestPoolClosed(t *testing.T) {
	srv := mailtest.MustStart(t)
	p := mailer.NewPool(mustConfig(t, srv), 2)
	if err := p.Send(context.Background(), newMessage("ann@example.net")); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := p.Send(context.Background(), newMessage("ann@example.net")); !errors.Is(err, mailer.ErrClosed) {
		t.Fatalf("Send after Close: %v, want ErrClosed", err)
	}
	if err := p.Send(context.Background(), &mailer.Message{}); !errors.Is(err, mailer.ErrClosed) {
		t.Fatalf("Send of an invalid message after Close: %v, want ErrClosed", err)
	}
	if err := p.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
}

func TestPoolCloseWaitsForSends(t *testing.T) {
	srv := mailtest.MustStart(t)
	entered, release := stallRCPT(t, srv)
	p := newPool(t, mustConfig(t, srv), 2)
	sent := make(chan error, 1)
	go func() { sent <- p.Send(context.Background(), newMessage("ann@example.net")) }()
	<-entered
	closed := make(chan struct{})
	go func() {
		_ = p.Close()
		close(closed)
	}()
	select {
	case <-closed:
		t.Fatal("Close returned while a send was in progress")
	case <-time.After(100 * time.Millisecond):
	}
	if err := p.Send(context.Background(), newMessage("bob@example.net")); !errors.Is(err, mailer.ErrClosed) {
		t.Fatalf("Send while closing: %v, want ErrClosed", err)
	}
	release()
	if err := <-sent; err != nil {
		t.Fatalf("the send in progress: %v", err)
	}
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("Close did not return after the send ended")
	}
	if got := srv.WaitFor(t, 1, wait); len(got) != 1 || got[0].To[0] != "ann@example.net" {
		t.Fatalf("delivered %v", got)
	}
}

func TestPoolSendWaitsForAFreeConnection(t *testing.T) {
	srv := mailtest.MustStart(t)
	entered, release := stallRCPT(t, srv)
	p := newPool(t, mustConfig(t, srv), 1)
	sent := make(chan error, 1)
	go func() { sent <- p.Send(context.Background(), newMessage("ann@example.net")) }()
	<-entered
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	err := p.Send(ctx, newMessage("bob@example.net"))
	if !errors.Is(err, context.DeadlineExceeded) || mailer.Classify(err) != mailer.Temporary {
		t.Fatalf("Send with every connection busy: %v, want a temporary context.DeadlineExceeded", err)
	}
	release()
	if err := <-sent; err != nil {
		t.Fatalf("first Send: %v", err)
	}
}

func TestPoolStalledServerTimesOut(t *testing.T) {
	srv := mailtest.MustStart(t)
	stallRCPT(t, srv)
	cfg := mustConfig(t, srv)
	cfg.Timeout = 300 * time.Millisecond
	p := newPool(t, cfg, 2)
	start := time.Now()
	err := p.Send(context.Background(), newMessage("ann@example.net"))
	took := time.Since(start)
	if c := mailer.Classify(err); c != mailer.Temporary || !mailer.IsTemporary(err) {
		t.Fatalf("Send to a stalled server: %v, class %v, want temporary", err, c)
	}
	if took < cfg.Timeout || took > 2*cfg.Timeout {
		t.Fatalf("Send failed after %v, want about %v", took, cfg.Timeout)
	}
}

// TestPoolSendsRSETOnlyAfterARefusal pins what goes over a Pool's kept
// connection: no RSET (nor NOOP) between delivered messages, RSET right
// after a refused RCPT, and the same connection throughout.
func TestPoolSendsRSETOnlyAfterARefusal(t *testing.T) {
	srv := startPlainServer(t)
	srv.mu.Lock()
	srv.refuseRcpt = "bob@example.net"
	srv.mu.Unlock()
	cfg, err := mailer.ParseSMTPURL("smtp://" + srv.ln.Addr().String() + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	p := newPool(t, cfg, 1)
	msg := []byte("Subject: s\r\n\r\nHello.\r\n")
	for _, to := range []string{"ann@example.net", "cid@example.net", "bob@example.net", "dee@example.net"} {
		err := p.SendRaw(context.Background(), "news@example.org", to, msg)
		if (err != nil) != (to == "bob@example.net") {
			t.Fatalf("SendRaw to %s: %v", to, err)
		}
	}
	_ = p.Close()
	commands, _ := srv.seen()
	want := []string{"EHLO",
		"MAIL FROM:<news@example.org>", "RCPT TO:<ann@example.net>", "DATA",
		"MAIL FROM:<news@example.org>", "RCPT TO:<cid@example.net>", "DATA",
		"MAIL FROM:<news@example.org>", "RCPT TO:<bob@example.net>", "RSET",
		"MAIL FROM:<news@example.org>", "RCPT TO:<dee@example.net>", "DATA",
		"QUIT"}
	var got []string
	for _, c := range commands {
		if strings.HasPrefix(c, "EHLO") {
			c = "EHLO"
		}
		got = append(got, c)
	}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("commands\n%q\nwant\n%q", got, want)
	}
}
