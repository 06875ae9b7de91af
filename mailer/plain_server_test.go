package mailer_test

import (
	"context"
	"net"
	"net/textproto"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter/mailer"
)

// plainServer is an SMTP server that offers no extensions at all, such as
// an old relay: it makes clients send one command at a time. It serves
// connections until the test ends and records the commands and the
// messages it gets.
//
// With pipelining, it offers PIPELINING and, before it answers the end of
// a message, waits up to a second for the next command: ahead records, per
// message, whether that command came without the answer (the client
// pipelined it with the message).
type plainServer struct {
	ln         net.Listener
	pipelining bool

	mu         sync.Mutex
	refuseRcpt string // RCPT TO of this address is refused with 550 5.1.1
	commands   []string
	messages   []string
	ahead      []bool
}

func startPlainServer(t *testing.T) *plainServer { return startServer(t, false) }

func startServer(t *testing.T, pipelining bool) *plainServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &plainServer{ln: ln, pipelining: pipelining}
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(conn)
		}
	}()
	return s
}

func (s *plainServer) serve(conn net.Conn) {
	defer conn.Close()
	tp := textproto.NewConn(conn)
	_ = tp.PrintfLine("220 plain.localhost ready")
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.commands = append(s.commands, line)
		refused := s.refuseRcpt != "" && line == "RCPT TO:<"+s.refuseRcpt+">"
		s.mu.Unlock()
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		if refused {
			_ = tp.PrintfLine("550 5.1.1 no such user")
			continue
		}
		switch verb {
		case "EHLO":
			if s.pipelining {
				_ = tp.PrintfLine("250-plain.localhost\r\n250 PIPELINING")
			} else {
				_ = tp.PrintfLine("250 plain.localhost")
			}
		case "HELO", "MAIL", "RCPT", "RSET", "NOOP":
			_ = tp.PrintfLine("250 ok")
		case "DATA":
			_ = tp.PrintfLine("354 go on")
			body, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			ahead := s.pipelining && nextCommandWaiting(conn, tp)
			s.mu.Lock()
			s.messages = append(s.messages, string(body))
			s.ahead = append(s.ahead, ahead)
			s.mu.Unlock()
			_ = tp.PrintfLine("250 queued")
		case "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("502 not here")
		}
	}
}

// nextCommandWaiting reports whether a command arrives within a second
// without an answer to the message before it.
func nextCommandWaiting(conn net.Conn, tp *textproto.Conn) bool {
	_ = conn.SetReadDeadline(time.Now().Add(time.Second))
	defer func() { _ = conn.SetReadDeadline(time.Time{}) }()
	_, err := tp.R.Peek(1)
	return err == nil
}

func (s *plainServer) seen() (commands, messages []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.commands...), append([]string(nil), s.messages...)
}

// TestSMTPWithoutPipelining sends to a server without PIPELINING: the
// message arrives whole, dot-stuffing undone, after one command at a time.
func TestSMTPWithoutPipelining(t *testing.T) {
	srv := startPlainServer(t)
	host, port, _ := net.SplitHostPort(srv.ln.Addr().String())
	cfg, err := mailer.ParseSMTPURL("smtp://" + net.JoinHostPort(host, port) + "?tls=none")
	if err != nil {
		t.Fatal(err)
	}
	s := mailer.NewSMTP(cfg)
	t.Cleanup(func() { _ = s.Close() })
	msg := "Subject: plain\r\n\r\nfirst line\r\n.a line that starts with a dot\r\n"
	for range 2 {
		if err := s.SendRaw(context.Background(), "news@example.org", "ann@example.net", []byte(msg)); err != nil {
			t.Fatal(err)
		}
	}
	_ = s.Close()
	commands, messages := srv.seen()
	if len(messages) != 2 || messages[0] != strings.ReplaceAll(msg, "\r\n", "\n") {
		t.Fatalf("messages %q, want two of %q", messages, msg)
	}
	want := []string{"MAIL FROM:<news@example.org>", "RCPT TO:<ann@example.net>", "DATA"}
	var got []string
	for _, c := range commands {
		if strings.HasPrefix(c, "MAIL") || strings.HasPrefix(c, "RCPT") || c == "DATA" {
			got = append(got, c)
		}
	}
	if strings.Join(got, "|") != strings.Join(append(want, want...), "|") {
		t.Errorf("commands %q", commands)
	}
}
