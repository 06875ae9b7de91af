package mailer

import (
	"context"
	"errors"
	"io"
	"net"

	gomail "github.com/wneessen/go-mail"
)

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("mailer: sender is closed")

// IsTemporary reports whether a send error is temporary: sending the same
// message again later may succeed. That holds for 4xx replies, lost or
// refused connections, timeouts, a cancelled context and a closed Sender. It
// does not hold for 5xx replies (such as 550 5.1.1, unknown user), invalid
// messages and errors of configuration (failed AUTH, no STARTTLS, bad TLS
// certificate). It is true for the classes Temporary and SlowDown; see
// Classify. (It was called Temporary before Class took that name.)
func IsTemporary(err error) bool {
	c := Classify(err)
	return c == Temporary || c == SlowDown
}

// transient says whether err, which holds no SMTP reply, is a failure of the
// connection, a timeout, an ended context or a closed Sender.
func transient(err error) bool {
	var ne net.Error
	var se *gomail.SendError
	switch {
	case errors.As(err, &ne),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, ErrClosed):
		return true
	case errors.As(err, &se):
		return isTransport(se.Reason)
	}
	return false
}

// isTransport says whether a SendError with that reason and no SMTP reply
// code is a failure of the connection. go-mail's SendError.IsTemp only looks
// at the reply code, and a SendError does not unwrap to its causes.
func isTransport(r gomail.SendErrReason) bool {
	switch r {
	case gomail.ErrConnCheck, gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData,
		gomail.ErrSMTPDataClose, gomail.ErrWriteContent, gomail.ErrSMTPReset:
		return true
	}
	return false
}
