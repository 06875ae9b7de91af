package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"
)

// rawConn is the plainest SMTP client: one kept connection, one command
// and one reply at a time, and a message dot-stuffed once beforehand and
// written in one piece. It is what any client must at least do, so it
// measures the sink and the loopback rather than a client library.
type rawConn struct {
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	ext  map[string]bool // the EHLO keywords the server offered, upper case
}

func dialRaw(addr string) (*rawConn, error) {
	conn, err := net.DialTimeout("tcp", addr, 10*time.Second)
	if err != nil {
		return nil, err
	}
	rc := &rawConn{conn: conn, r: bufio.NewReaderSize(conn, 4<<10), w: bufio.NewWriterSize(conn, 64<<10), ext: map[string]bool{}}
	if err := rc.expect(220); err != nil {
		conn.Close()
		return nil, err
	}
	rc.w.WriteString("EHLO bench.localhost\r\n")
	err = rc.w.Flush()
	for first := true; err == nil; first = false {
		var line string
		if line, err = rc.line(250); err != nil {
			break
		}
		if !first { // the first line greets; the others name an extension each
			kw, _, _ := strings.Cut(strings.TrimSpace(line[4:]), " ")
			rc.ext[strings.ToUpper(kw)] = true
		}
		if line[3] != '-' {
			break
		}
	}
	if err != nil {
		conn.Close()
		return nil, err
	}
	return rc, nil
}

// send delivers one message, stuffed by stuff, to one recipient.
func (rc *rawConn) send(to string, stuffed []byte) error {
	if err := rc.cmd("MAIL FROM:<news@bench.example>", 250); err != nil {
		return err
	}
	if err := rc.cmd("RCPT TO:<"+to+">", 250); err != nil {
		return err
	}
	if err := rc.cmd("DATA", 354); err != nil {
		return err
	}
	rc.w.Write(stuffed)
	if err := rc.w.Flush(); err != nil {
		return err
	}
	return rc.expect(250)
}

func (rc *rawConn) quit() error {
	err := rc.cmd("QUIT", 221)
	rc.conn.Close()
	return err
}

func (rc *rawConn) cmd(line string, want int) error {
	rc.w.WriteString(line)
	rc.w.WriteString("\r\n")
	if err := rc.w.Flush(); err != nil {
		return err
	}
	return rc.expect(want)
}

// expect reads one reply, of one or more lines, and checks its code.
func (rc *rawConn) expect(want int) error {
	for {
		line, err := rc.line(want)
		if err != nil {
			return err
		}
		if line[3] != '-' {
			return nil
		}
	}
}

// line reads one line of a reply and checks its code.
func (rc *rawConn) line(want int) (string, error) {
	line, err := rc.r.ReadString('\n')
	if err != nil {
		return "", err
	}
	if len(line) < 4 {
		return "", fmt.Errorf("smtp: short reply %q", line)
	}
	if code, _ := strconv.Atoi(line[:3]); code != want {
		return "", fmt.Errorf("smtp: got %q, want %d", line, want)
	}
	return line, nil
}

// stuff returns msg dot-stuffed (RFC 5321 4.5.2), ending in CRLF and the
// final ".\r\n", ready to follow DATA.
func stuff(msg []byte) []byte {
	var b bytes.Buffer
	b.Grow(len(msg) + 64)
	for line := range bytes.Lines(msg) {
		if line[0] == '.' {
			b.WriteByte('.')
		}
		b.Write(line)
	}
	if !bytes.HasSuffix(b.Bytes(), []byte("\r\n")) {
		b.WriteString("\r\n")
	}
	b.WriteString(".\r\n")
	return b.Bytes()
}
