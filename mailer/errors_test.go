package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"testing"

	"newsletter/mailer"
)

func TestIsTemporary(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("mailer: invalid to"), false},
		{&textproto.Error{Code: 421, Msg: "4.4.2 busy"}, true},
		{fmt.Errorf("SMTP AUTH failed: %w", &textproto.Error{Code: 535, Msg: "5.7.8 no"}), false},
		{&net.OpError{Op: "dial", Err: errors.New("connection refused")}, true},
		{fmt.Errorf("wrapped: %w", io.EOF), true},
		{context.DeadlineExceeded, true},
		{context.Canceled, true},
		{mailer.ErrClosed, true},
	} {
		if got := mailer.IsTemporary(tc.err); got != tc.want {
			t.Errorf("IsTemporary(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
