package mailer

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"net"
	"os"

	gomail "github.com/wneessen/go-mail"
)

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("mailer: sender is closed")

// IsTemporary reports whether a send error is temporary: sending the same
// message again later may succeed. That holds for 4xx replies, lost or
// refused connections, timeouts, a cancelled context and a closed Sender. It
// does not hold for 5xx replies (such as 550 5.1.1, unknown user), invalid
// messages and errors of configuration (failed AUTH, no STARTTLS, bad TLS
// certificate), nor for local failures (the Outbox's file system, making or
// signing a message: class Local), which a retry alone does not mend. It is
// true for the classes Temporary and SlowDown; see Classify. (It was called
// Temporary before Class took that name.)
func IsTemporary(err error) bool {
	c := Classify(err)
	return c == Temporary || c == SlowDown
}

// localError marks a failure of our side, classed Local: making, encoding
// or signing a message, or the Outbox's file system.
type localError struct{ err error }

func (e *localError) Error() string { return e.err.Error() }
func (e *localError) Unwrap() error { return e.err }

// local marks err, if not nil, as a failure of our side.
func local(err error) error {
	if err == nil {
		return nil
	}
	return &localError{err}
}

// isLocal says whether err, which holds no SMTP reply, is a failure of our
// side: marked by local, or a file-system error (*fs.PathError, such as
// "mkdir /x: permission denied", or *os.LinkError from a rename) that no
// *net.OpError holds. Such an error unwraps to a syscall.Errno, which is a
// net.Error too, so isLocal must be asked before transient.
func isLocal(err error) bool {
	var le *localError
	if errors.As(err, &le) {
		return true
	}
	var oe *net.OpError
	if errors.As(err, &oe) {
		return false // the network, whatever it wraps
	}
	var pe *fs.PathError
	var lke *os.LinkError
	return errors.As(err, &pe) || errors.As(err, &lke)
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
