// Command sink is the SMTP server the benchmarks deliver to: it accepts
// every message, counts messages and recipients, and discards the bodies.
// Mail to recipients with a chosen prefix (-record-prefix, "latency-") is
// "recorded": its arrival time is kept per address, and it is counted apart
// so that it does not blur the timing of the rest. It answers over HTTP on
// a second port:
//
//	GET  /count     {"messages":..,"recorded":..,"rcpts":..,"bytes":..,"first_at":ns,"last_at":ns,"cpu_seconds":..}
//	POST /reset     zero the counts, the sample and the arrivals
//	GET  /sample    the first unrecorded message since the last reset, raw
//	GET  /arrivals  {"address": unix ns of its first arrival, ...}
//
// first_at and last_at are the arrival times (unix ns) of the first and the
// last unrecorded message since the reset; cpu_seconds is the sink's own
// user and system CPU so far.
//
// It is a separate process so that its CPU is not the measured program's.
// go-smtp offers PIPELINING (RFC 2920) in its EHLO answer and reads
// pipelined commands and content from one buffer, as the service's mailer
// and the bench's pipelined raw client send them.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

func main() {
	smtpAddr := flag.String("smtp", "127.0.0.1:2525", "SMTP listen address")
	httpAddr := flag.String("http", "127.0.0.1:2526", "HTTP listen address for /count, /reset, /sample, /arrivals")
	prefix := flag.String("record-prefix", "latency-", "record the arrival time of mail to recipients starting with this")
	flag.Parse()
	if err := run(*smtpAddr, *httpAddr, *prefix); err != nil {
		fmt.Fprintln(os.Stderr, "sink:", err)
		os.Exit(1)
	}
}

func run(smtpAddr, httpAddr, prefix string) error {
	c := newCounter(prefix)
	srv := newSMTPServer(c)
	sl, err := net.Listen("tcp", smtpAddr)
	if err != nil {
		return err
	}
	hl, err := net.Listen("tcp", httpAddr)
	if err != nil {
		return err
	}
	hs := &http.Server{Handler: c.routes(), ReadHeaderTimeout: 5 * time.Second}
	errs := make(chan error, 2)
	go func() { errs <- srv.Serve(sl) }()
	go func() { errs <- hs.Serve(hl) }()
	fmt.Printf("sink: SMTP on %s, HTTP on %s\n", sl.Addr(), hl.Addr())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	select {
	case <-ctx.Done():
	case err := <-errs:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = hs.Shutdown(sctx)
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

func newSMTPServer(c *counter) *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		return &session{c: c}, nil
	}))
	srv.Domain = "sink.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = 5 * time.Minute
	srv.WriteTimeout = 30 * time.Second
	srv.MaxMessageBytes = 32 << 20
	srv.ErrorLog = log.New(io.Discard, "", 0)
	return srv
}

// session is one SMTP connection; go-smtp calls it from one goroutine.
type session struct {
	c  *counter
	to []string
}

func (s *session) Mail(string, *smtp.MailOptions) error { s.to = s.to[:0]; return nil }

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	return s.c.deliver(s.to, r)
}

func (s *session) Reset()        { s.to = s.to[:0] }
func (s *session) Logout() error { return nil }
