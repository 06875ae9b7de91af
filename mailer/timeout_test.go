package mailer_test

import (
	"context"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

// slowData makes srv wait d (or, if d < 0, until the test ends) before it
// answers the end of DATA.
func slowData(t *testing.T, srv *mailtest.Server, d time.Duration) {
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	srv.SetDataReply(func(mailtest.Received) *smtp.SMTPError {
		if d < 0 {
			<-done
		} else {
			time.Sleep(d)
		}
		return nil
	})
}

func shortTimeouts(t *testing.T, srv *mailtest.Server, timeout, data time.Duration) *mailer.SMTP {
	cfg := mustConfig(t, srv)
	cfg.Timeout, cfg.DataTimeout = timeout, data
	s := mailer.NewSMTP(cfg)
	t.Cleanup(func() { _ = s.Close() })
	return s
}

func TestDataPhaseGetsDataTimeout(t *testing.T) {
	srv := mailtest.MustStart(t)
	slowData(t, srv, 400*time.Millisecond) // longer than Timeout, shorter than DataTimeout
	s := shortTimeouts(t, srv, 150*time.Millisecond, 5*time.Second)
	for i := range 2 {
		if err := s.Send(context.Background(), newMessage("ann@example.net")); err != nil {
			t.Fatalf("Send %d with a slow reply to DATA: %v", i, err)
		}
	}
	srv.WaitFor(t, 2, wait)
	if n := srv.Sessions(); n != 1 {
		t.Errorf("%d SMTP sessions, want 1", n)
	}
}

func TestStalledDataPhaseFailsAfterDataTimeout(t *testing.T) {
	srv := mailtest.MustStart(t)
	slowData(t, srv, -1)
	s := shortTimeouts(t, srv, 100*time.Millisecond, 500*time.Millisecond)
	start := time.Now()
	err := s.Send(context.Background(), newMessage("ann@example.net"))
	took := time.Since(start)
	if mailer.Classify(err) != mailer.Temporary {
		t.Fatalf("Send with a stalled DATA phase: %v, want a temporary error", err)
	}
	if took < 500*time.Millisecond || took > time.Second {
		t.Fatalf("Send failed after %v, want about the DataTimeout of 500ms", took)
	}
}
