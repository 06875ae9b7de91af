package mailer

import (
	"net"
	"strings"
	"time"

	"github.com/wneessen/go-mail/log"
)

// deadlines sets the deadlines of one SMTP connection: Timeout for each
// command and its reply, DataTimeout for the message content and the reply
// to it. go-mail sets a single deadline per message and has no hook between
// commands except its debug log, which it calls synchronously just before it
// sends each command and just after it reads each reply (but not the reply
// to the content). So deadlines is installed as that log. Should go-mail stop
// calling it, every message still has go-mail's own deadline of Timeout.
type deadlines struct {
	conn        net.Conn
	timeout     time.Duration
	dataTimeout time.Duration
	until       time.Time // the deadline set last
}

// set sets the deadline to d from now.
func (dl *deadlines) set(d time.Duration) {
	dl.until = time.Now().Add(d)
	_ = dl.conn.SetDeadline(dl.until)
}

// Debugf moves the deadline before each command, and after the 354 reply
// to DATA.
func (dl *deadlines) Debugf(l log.Log) {
	switch {
	case l.Direction == log.DirClientToServer && strings.HasPrefix(l.Format, "RSET"):
		// This package sends RSET only from SMTP.reset, after a refused
		// command, and sets the deadline itself first. An RSET sent any
		// other way (go-mail's own Client.Send resets after a failure,
		// perhaps a timeout) may shorten the deadline but must not revive
		// a connection past it.
		if until := time.Now().Add(dl.timeout); until.Before(dl.until) {
			dl.until = until
			_ = dl.conn.SetDeadline(until)
		}
	case l.Direction == log.DirClientToServer:
		dl.set(dl.timeout)
	case len(l.Messages) > 0 && l.Messages[0] == 354:
		dl.set(dl.dataTimeout)
	}
}

// Infof does nothing.
func (*deadlines) Infof(log.Log) {}

// Warnf does nothing.
func (*deadlines) Warnf(log.Log) {}

// Errorf does nothing.
func (*deadlines) Errorf(log.Log) {}
