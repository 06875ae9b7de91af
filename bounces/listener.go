package bounces

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"

	"newsletter/metrics"
	"newsletter/subscribers"
)

// Limits of the inbound listener: reports are small, and the listener
// faces the internet as the HTTP server does.
const (
	maxReportBytes  = 1 << 20
	maxConnections  = 64
	inboundTimeouts = 30 * time.Second
)

// Outcomes of one inbound message, the label of the metric.
const (
	OutcomeHard         = "hard_bounce"
	OutcomeSoft         = "soft_bounce"
	OutcomeComplaint    = "complaint"
	OutcomeUnsubscribe  = "unsubscribe"
	OutcomeIgnored      = "ignored"      // a report of no failure (delivered, relayed)
	OutcomeUnattributed = "unattributed" // a bad tag, an unknown format, a gone subscriber: not acted on
)

// Listener is the inbound SMTP listener: it accepts mail only for the
// bounce and unsubscribe addresses of its domain (refusing every other
// recipient at RCPT) and applies what it receives.
type Listener struct {
	Addresses   *Addresses
	Subscribers *subscribers.Service
	Metrics     *metrics.Metrics // nil: counts nothing
	Logger      *slog.Logger
	// Digests, when set, counts each report against the digest of the
	// original message (its Message-ID names it).
	Digests DigestCounter
}

// DigestCounter counts reports per digest; digests.Store is one.
type DigestCounter interface {
	CountReport(ctx context.Context, digestID, kind string) error
}

// Serve accepts connections on l until it is closed.
func (li *Listener) Serve(l net.Listener) error {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{li: li}, nil
	}))
	srv.Domain = li.Addresses.Domain()
	srv.MaxMessageBytes = maxReportBytes
	srv.MaxRecipients = 10
	srv.ReadTimeout, srv.WriteTimeout = inboundTimeouts, inboundTimeouts
	srv.ErrorLog = slogLogger{li.Logger}
	err := srv.Serve(netutil.LimitListener(l, maxConnections))
	if errors.Is(err, smtp.ErrServerClosed) || errors.Is(err, net.ErrClosed) {
		return nil
	}
	return err
}

// session is one SMTP transaction's state.
type session struct {
	li      *Listener
	targets []Target
	plain   bool // the untagged bounce address was a recipient
}

func (s *session) Reset()        { s.targets, s.plain = nil, false }
func (s *session) Logout() error { return nil }

func (s *session) Mail(string, *smtp.MailOptions) error { return nil }

// Rcpt accepts the tagged addresses of the domain, and the bare bounce
// address (feedback loops that report to it), nothing else.
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if t, ok := s.li.Addresses.Parse(to); ok {
		s.targets = append(s.targets, t)
		return nil
	}
	if strings.EqualFold(strings.TrimSpace(to), s.li.Addresses.bounceLocal+"@"+s.li.Addresses.domain) {
		s.plain = true
		return nil
	}
	return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such recipient here"}
}

// Data reads the message and applies it for each recipient.
func (s *session) Data(r io.Reader) error {
	msg, err := io.ReadAll(io.LimitReader(r, maxReportBytes+1))
	if err != nil {
		return err
	}
	if len(msg) > maxReportBytes {
		return smtp.ErrDataTooLarge
	}
	ctx, cancel := context.WithTimeout(context.Background(), inboundTimeouts)
	defer cancel()
	targets := s.targets
	if s.plain {
		targets = append(targets, Target{Kind: KindBounce})
	}
	for _, t := range targets {
		outcome, err := s.li.apply(ctx, t, msg)
		if err != nil {
			s.li.Logger.Error("Unable to apply an inbound message", "kind", t.Kind, "error", err)
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		s.li.Metrics.CountInbound(outcome)
	}
	return nil
}

// slogLogger passes go-smtp's errors to the service's log.
type slogLogger struct{ l *slog.Logger }

func (l slogLogger) Printf(format string, v ...any) {
	l.l.Debug("Inbound SMTP", "detail", sprintf(format, v...))
}
func (l slogLogger) Println(v ...any) { l.l.Debug("Inbound SMTP", "detail", sprintf("%v", v)) }
