package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"testing"

	"github.com/emersion/go-smtp"
	gomail "github.com/wneessen/go-mail"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

func TestClassifyReplies(t *testing.T) {
	srv := mailtest.MustStart(t)
	s := newSender(t, srv)
	enh := func(class, subject, detail int) smtp.EnhancedCode { return smtp.EnhancedCode{class, subject, detail} }
	for _, tc := range []struct {
		name     string
		reply    smtp.SMTPError
		want     mailer.Class
		enhanced string // what ReplyCode reads
	}{
		{"451 4.3.0", smtp.SMTPError{Code: 451, EnhancedCode: enh(4, 3, 0), Message: "try again later"}, mailer.Temporary, "4.3.0"},
		{"421 4.7.0", smtp.SMTPError{Code: 421, EnhancedCode: enh(4, 7, 0), Message: "too many connections"}, mailer.SlowDown, "4.7.0"},
		{"454 4.7.1", smtp.SMTPError{Code: 454, EnhancedCode: enh(4, 7, 1), Message: "relay access denied"}, mailer.SlowDown, "4.7.1"},
		{"450 4.7.28", smtp.SMTPError{Code: 450, EnhancedCode: enh(4, 7, 28), Message: "rate limited"}, mailer.SlowDown, "4.7.28"},
		{"452 4.2.2", smtp.SMTPError{Code: 452, EnhancedCode: enh(4, 2, 2), Message: "mailbox full"}, mailer.Temporary, "4.2.2"},
		{"550 5.1.1", smtp.SMTPError{Code: 550, EnhancedCode: enh(5, 1, 1), Message: "no such user"}, mailer.HardBounce, "5.1.1"},
		{"550 5.1.2", smtp.SMTPError{Code: 550, EnhancedCode: enh(5, 1, 2), Message: "bad domain"}, mailer.HardBounce, "5.1.2"},
		{"556 5.1.10", smtp.SMTPError{Code: 556, EnhancedCode: enh(5, 1, 10), Message: "null MX"}, mailer.HardBounce, "5.1.10"},
		{"550 5.2.1", smtp.SMTPError{Code: 550, EnhancedCode: enh(5, 2, 1), Message: "mailbox disabled"}, mailer.HardBounce, "5.2.1"},
		{"550 5.4.4", smtp.SMTPError{Code: 550, EnhancedCode: enh(5, 4, 4), Message: "unable to route"}, mailer.HardBounce, "5.4.4"},
		{"552 5.2.2", smtp.SMTPError{Code: 552, EnhancedCode: enh(5, 2, 2), Message: "mailbox full"}, mailer.Permanent, "5.2.2"},
		{"550 5.7.1", smtp.SMTPError{Code: 550, EnhancedCode: enh(5, 7, 1), Message: "rejected by policy"}, mailer.Policy, "5.7.1"},
		{"554 5.7.26", smtp.SMTPError{Code: 554, EnhancedCode: enh(5, 7, 26), Message: "DMARC failed"}, mailer.Policy, "5.7.26"},
		{"554 5.0.0", smtp.SMTPError{Code: 554, EnhancedCode: enh(5, 0, 0), Message: "transaction failed"}, mailer.Permanent, "5.0.0"},
		{"550 without an enhanced code is x.0.0 from go-smtp", smtp.SMTPError{Code: 550, Message: "no"}, mailer.Permanent, "5.0.0"},
		{"4xx with a provider's words", smtp.SMTPError{Code: 451, EnhancedCode: enh(4, 3, 0),
			Message: "[TSS04] 5.1.1 user unknown, 5.7.1 blocked (permanent)"}, mailer.Temporary, "4.3.0"},
		{"a code only in the words is not a code", smtp.SMTPError{Code: 550, EnhancedCode: smtp.NoEnhancedCode,
			Message: "Recipient rejected: see 5.1.1 user unknown"}, mailer.Permanent, ""},
		{"multi-line reply, code on the last line", smtp.SMTPError{Code: 550, EnhancedCode: enh(5, 1, 1),
			Message: "Sorry, we do not know\nthis user"}, mailer.HardBounce, "5.1.1"},
		{"enhanced class that contradicts the code", smtp.SMTPError{Code: 550, EnhancedCode: enh(4, 2, 2), Message: "full"}, mailer.Permanent, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv.SetReply(func(string, int) *smtp.SMTPError { return &tc.reply })
			err := s.Send(context.Background(), newMessage("ann@example.net"))
			if got := mailer.Classify(err); got != tc.want {
				t.Errorf("Classify(%v) = %v, want %v", err, got, tc.want)
			}
			if code, enhanced := mailer.ReplyCode(err); code != tc.reply.Code || enhanced != tc.enhanced {
				t.Errorf("ReplyCode(%v) = %d %q, want %d %q", err, code, enhanced, tc.reply.Code, tc.enhanced)
			}
			want := tc.want == mailer.Temporary || tc.want == mailer.SlowDown
			if got := mailer.IsTemporary(err); got != want {
				t.Errorf("IsTemporary(%v) = %v, want %v", err, got, want)
			}
		})
	}
}

// go-mail's own EnhancedStatusCode reads a code from anywhere in the reply.
func TestReplyCodeIgnoresGoMailsGuess(t *testing.T) {
	srv := mailtest.MustStart(t)
	srv.SetReply(func(string, int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.NoEnhancedCode, Message: "unknown, see 5.1.1"}
	})
	err := newSender(t, srv).Send(context.Background(), newMessage("ann@example.net"))
	var se *gomail.SendError
	if !errors.As(err, &se) || se.EnhancedStatusCode() != "5.1.1" {
		t.Skipf("go-mail no longer guesses: %v", err) // then this test has nothing to show
	}
	if _, enhanced := mailer.ReplyCode(err); enhanced != "" {
		t.Fatalf("ReplyCode read %q from the words of %v", enhanced, err)
	}
}

func TestClassifyEndOfData(t *testing.T) {
	srv := mailtest.MustStart(t)
	srv.SetDataReply(func(mailtest.Received) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 7, 26}, Message: "unauthenticated mail is prohibited"}
	})
	err := newSender(t, srv).Send(context.Background(), newMessage("ann@example.net"))
	if got := mailer.Classify(err); got != mailer.Policy {
		t.Fatalf("Classify(%v) = %v, want policy", err, got)
	}
	if code, enhanced := mailer.ReplyCode(err); code != 554 || enhanced != "5.7.26" {
		t.Fatalf("ReplyCode = %d %q, want 554 5.7.26", code, enhanced)
	}
}

func TestClassifyWithoutReply(t *testing.T) {
	closed, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	refused := newSender(t, closed).Send(context.Background(), newMessage("ann@example.net"))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, tc := range []struct {
		name string
		err  error
		want mailer.Class
	}{
		{"nil", nil, mailer.Delivered},
		{"connection refused", refused, mailer.Temporary},
		{"cancelled context", newSender(t, mailtest.MustStart(t)).Send(ctx, newMessage("ann@example.net")), mailer.Temporary},
		{"closed sender", mailer.ErrClosed, mailer.Temporary},
		{"invalid message", newSender(t, mailtest.MustStart(t)).Send(context.Background(), &mailer.Message{}), mailer.Permanent},
		{"421 at connect", fmt.Errorf("mailer: connect: %w", &textproto.Error{Code: 421, Msg: "4.3.2 shutting down"}), mailer.SlowDown},
		{"535 5.7.8 at AUTH", fmt.Errorf("mailer: connect: %w", &textproto.Error{Code: 535, Msg: "5.7.8 bad credentials"}), mailer.Policy},
	} {
		if got := mailer.Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
	if code, enhanced := mailer.ReplyCode(refused); code != 0 || enhanced != "" {
		t.Errorf("ReplyCode(%v) = %d %q, want 0", refused, code, enhanced)
	}
}

func TestClassString(t *testing.T) {
	for c, want := range map[mailer.Class]string{
		mailer.Delivered: "delivered", mailer.Temporary: "temporary", mailer.SlowDown: "slow_down",
		mailer.Permanent: "permanent", mailer.HardBounce: "hard_bounce", mailer.Policy: "policy", mailer.Local: "local", 42: "Class(42)",
	} {
		if got := c.String(); got != want {
			t.Errorf("Class(%d).String() = %q, want %q", int(c), got, want)
		}
	}
}
