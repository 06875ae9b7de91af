// Package mailtest runs a real SMTP server on the loopback interface that
// records what it receives, for tests and local benchmarks.
package mailtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Reply decides the answer to one RCPT TO; nil accepts. attempt counts the
// RCPTs seen so far for that address, from 1.
type Reply func(rcpt string, attempt int) *smtp.SMTPError

// DataReply decides the answer to a message once its DATA has been read;
// nil accepts, and the message is recorded.
type DataReply func(r Received) *smtp.SMTPError

// Server is an SMTP server on 127.0.0.1 that records what it receives. It
// offers no TLS and accepts AUTH PLAIN with any credentials, or no AUTH.
// Its methods are safe for concurrent use.
type Server struct {
	smtp   *smtp.Server
	ln     *listener
	served chan struct{} // closed when Serve has returned

	mu       sync.Mutex
	msgs     []Received
	attempts map[string]int // RCPTs seen per address
	sessions int            // sessions opened
	reply    Reply
	dataRep  DataReply
	arrived  chan struct{} // closed and replaced when a message arrives
	closed   bool
}

// MustStart starts a server on a random loopback port and stops it at test
// cleanup.
func MustStart(tb testing.TB) *Server {
	tb.Helper()
	s, err := Start("127.0.0.1:0")
	if err != nil {
		tb.Fatalf("mailtest: %v", err)
	}
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("mailtest: close: %v", err)
		}
	})
	return s
}

// Start starts a server on addr ("127.0.0.1:0" for a random port). Call
// Close to stop it.
func Start(addr string) (*Server, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("mailtest: listen: %w", err)
	}
	s := &Server{
		ln:       newListener(l),
		served:   make(chan struct{}),
		attempts: make(map[string]int),
		arrived:  make(chan struct{}),
	}
	s.smtp = newSMTPServer(s)
	go func() {
		defer close(s.served)
		_ = s.smtp.Serve(s.ln)
	}()
	return s, nil
}

func newSMTPServer(s *Server) *smtp.Server {
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.sessions++
		return &session{srv: s}, nil
	}))
	srv.Domain = "mailtest.localhost"
	srv.AllowInsecureAuth = true
	srv.ReadTimeout = time.Minute
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = log.New(io.Discard, "", 0)
	return srv
}

// Close stops the server: it stops listening, cuts every connection and
// waits until every connection's goroutine has finished.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	err := s.ln.Close()
	<-s.served // no connection is accepted from here on
	s.ln.closeConns()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if serr := s.smtp.Shutdown(ctx); serr != nil && !errors.Is(serr, net.ErrClosed) {
		err = errors.Join(err, serr)
	}
	if err != nil {
		return fmt.Errorf("mailtest: close: %w", err)
	}
	return nil
}

// Addr returns the server's host:port.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// URL returns smtp://127.0.0.1:PORT?tls=none.
func (s *Server) URL() string { return "smtp://" + s.Addr() + "?tls=none" }

// SetReply sets how RCPT TO is answered from now on; nil accepts all.
func (s *Server) SetReply(r Reply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.reply = r
}

// SetDataReply sets how the end of DATA is answered from now on; nil
// accepts all. Like a Reply, a DataReply may block to stall a client.
func (s *Server) SetDataReply(r DataReply) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.dataRep = r
}

// Messages returns a copy of the messages received so far, oldest first.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneAll(s.msgs)
}

// Count returns how many messages were received.
func (s *Server) Count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.msgs)
}

// Sessions returns how many SMTP sessions (connections that said EHLO or
// HELO) were opened.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Reset forgets the messages received, the RCPT attempts and the sessions
// counted so far. The Reply stays.
func (s *Server) Reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = nil
	clear(s.attempts)
	s.sessions = 0
}

// WaitFor waits until at least n messages arrived or timeout passes, and
// returns the messages. On timeout it fails tb (with FailNow, so call it
// from the test's goroutine).
func (s *Server) WaitFor(tb testing.TB, n int, timeout time.Duration) []Received {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		got, arrived := len(s.msgs), s.arrived
		if got >= n {
			msgs := cloneAll(s.msgs)
			s.mu.Unlock()
			return msgs
		}
		s.mu.Unlock()
		select {
		case <-arrived:
		case <-timer.C:
			tb.Fatalf("mailtest: %d message(s) arrived within %v, want at least %d", got, timeout, n)
			return nil
		}
	}
}

// rcpt answers one RCPT TO for rcpt. The Reply runs unlocked, so it may
// block (to stall a client) without stalling the Server's methods.
func (s *Server) rcpt(rcpt string) error {
	s.mu.Lock()
	s.attempts[rcpt]++
	reply, attempt := s.reply, s.attempts[rcpt]
	s.mu.Unlock()
	if reply == nil {
		return nil
	}
	if e := reply(rcpt, attempt); e != nil {
		return e // not the nil *SMTPError, which would be a non-nil error
	}
	return nil
}

// deliver asks the DataReply, unlocked, then records r if it accepts.
func (s *Server) deliver(r Received) error {
	s.mu.Lock()
	reply := s.dataRep
	s.mu.Unlock()
	if reply != nil {
		if e := reply(r.clone()); e != nil {
			return e
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, r)
	close(s.arrived)
	s.arrived = make(chan struct{})
	return nil
}

func cloneAll(msgs []Received) []Received {
	out := slices.Clone(msgs)
	for i := range out {
		out[i] = out[i].clone()
	}
	return out
}
