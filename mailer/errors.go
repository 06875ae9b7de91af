package mailer

import (
	"context"
	"errors"
	"io"
	"net"
	"net/textproto"

	gomail "github.com/wneessen/go-mail"
)

// ErrClosed is returned by Send after Close.
var ErrClosed = errors.New("mailer: sender is closed")

// Temporary reports whether a send error is temporary: sending the same
// message again later may succeed. That holds for 4xx replies, lost or
// refused connections, timeouts, a cancelled context and a closed Sender. It
// does not hold for 5xx replies (such as 550 5.1.1, unknown user), invalid
// messages and errors of configuration (failed AUTH, no STARTTLS, bad TLS
// certificate).
func Temporary(err error) bool {
	if err == nil {
		return false
	}
	var se *gomail.SendError
	if errors.As(err, &se) {
		return se.IsTemp() || (se.ErrorCode() == 0 && isTransport(se.Reason))
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 400 && te.Code < 500
	}
	var ne net.Error
	return errors.As(err, &ne) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, ErrClosed)
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
