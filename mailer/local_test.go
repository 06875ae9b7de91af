package mailer_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"newsletter/mailer"
	"newsletter/mailer/mailtest"
)

// rawMessage is a whole message with CRLF line endings.
const rawMessage = "From: <news@example.org>\r\nTo: <ann@example.net>\r\nSubject: raw\r\n\r\nHello.\r\n"

// TestOutboxCreatesItsFolderOnEveryPath: SendRaw and a Stream create the
// outbox folder, as Send does.
func TestOutboxCreatesItsFolderOnEveryPath(t *testing.T) {
	ctx := context.Background()
	t.Run("SendRaw", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "not", "yet")
		if err := mailer.NewOutbox(dir).SendRaw(ctx, "news@example.org", "ann@example.net", []byte(rawMessage)); err != nil {
			t.Fatalf("SendRaw into a folder not yet made: %v", err)
		}
		checkOutboxFiles(t, dir, 1)
	})
	t.Run("Stream", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "not", "yet")
		st, err := mailer.NewOutbox(dir).Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		to := []string{"a@example.net", "b@example.net"}
		for i, r := range to {
			m := mailer.Outgoing{From: "news@example.org", To: r, Msg: streamMessage(r)}
			if i+1 < len(to) {
				m.Next = to[i+1]
			}
			if err := st.Send(ctx, m); err != nil {
				t.Fatalf("Stream.Send into a folder not yet made: %v", err)
			}
		}
		checkOutboxFiles(t, dir, 2)
	})
}

// checkOutboxFiles checks that dir holds n .eml files and nothing else.
func checkOutboxFiles(t *testing.T, dir string, n int) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != n {
		t.Fatalf("%d files in the outbox, want %d", len(entries), n)
	}
	for _, e := range entries {
		if !emlName.MatchString(e.Name()) {
			t.Errorf("file name %q", e.Name())
		}
	}
}

// TestOutboxErrorsAreLocal: an outbox that cannot write is our side
// broken, not the network: Local, not temporary, and the error names the
// operation and the path.
func TestOutboxErrorsAreLocal(t *testing.T) {
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "a-file")
	if err := os.WriteFile(file, []byte("not a folder"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{file, filepath.Join(file, "sub")} {
		o := mailer.NewOutbox(dir)
		st, err := o.Stream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for name, send := range map[string]func() error{
			"Send": func() error { return o.Send(ctx, newMessage("ann@example.net")) },
			"SendRaw": func() error {
				return o.SendRaw(ctx, "news@example.org", "ann@example.net", []byte(rawMessage))
			},
			"Stream.Send": func() error {
				return st.Send(ctx, mailer.Outgoing{From: "news@example.org", To: "ann@example.net", Msg: []byte(rawMessage)})
			},
		} {
			err := send()
			checkLocal(t, fmt.Sprintf("%s into %s", name, dir), err)
			var pe *fs.PathError
			if !errors.As(err, &pe) {
				t.Errorf("%s into %s: %v is no *fs.PathError", name, dir, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, "mailer: outbox: mkdir "+file+": ") {
				t.Errorf("%s into %s: error %q, want it to name mkdir and %s", name, dir, msg, file)
			}
		}
		_ = st.Close()
	}
}

// TestOutboxPermissionDeniedIsLocal: a folder the process may not write to.
func TestOutboxPermissionDeniedIsLocal(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores file permissions")
	}
	parent := filepath.Join(t.TempDir(), "locked")
	if err := os.Mkdir(parent, 0o500); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "outbox")
	err := mailer.NewOutbox(dir).SendRaw(context.Background(), "news@example.org", "ann@example.net", []byte(rawMessage))
	checkLocal(t, "SendRaw into a folder without write permission", err)
	if !errors.Is(err, fs.ErrPermission) || !strings.Contains(err.Error(), "mkdir "+dir) {
		t.Errorf("error %q, want permission denied naming mkdir %s", err, dir)
	}
}

func checkLocal(t *testing.T, what string, err error) {
	t.Helper()
	if got := mailer.Classify(err); got != mailer.Local {
		t.Errorf("%s: Classify(%v) = %v, want local", what, err, got)
	}
	if mailer.IsTemporary(err) {
		t.Errorf("%s: IsTemporary(%v) = true, want false", what, err)
	}
}

// TestClassifyLocalAndNetwork: file-system and message-making failures are
// Local; failures of the network stay Temporary, whatever they wrap.
func TestClassifyLocalAndNetwork(t *testing.T) {
	closed, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := closed.Close(); err != nil {
		t.Fatal(err)
	}
	refused := newSender(t, closed).Send(context.Background(), newMessage("ann@example.net"))
	var opErr *net.OpError
	if !errors.As(refused, &opErr) || opErr.Op != "dial" {
		t.Fatalf("send to a closed port: %v, want a *net.OpError from dial", refused)
	}

	busy := mailtest.MustStart(t)
	busy.SetReply(func(string, int) *smtp.SMTPError {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 4, 2}, Message: "too busy"}
	})
	reply421 := newSender(t, busy).Send(context.Background(), newMessage("ann@example.net"))

	tpl, err := mailer.NewTemplate(&mailer.Message{From: "news@example.org", Subject: "s", Text: "Hello NAME."}, "NAME")
	if err != nil {
		t.Fatal(err)
	}
	_, noValue := tpl.Append(nil, &mailer.Personal{To: "ann@example.net"}, time.Now())

	cfg := mustConfig(t, mailtest.MustStart(t))
	cfg.DKIM, _ = mustDKIM(t)
	signing := mailer.NewSMTP(cfg)
	t.Cleanup(func() { _ = signing.Close() })
	noBody := signing.SendRaw(context.Background(), "news@example.org", "ann@example.net", []byte("Subject: no body\r\n"))

	enospc := &fs.PathError{Op: "write", Path: "/var/outbox/.outbox-1.tmp", Err: syscall.ENOSPC}
	for _, tc := range []struct {
		name string
		err  error
		want mailer.Class
	}{
		{"ENOSPC", enospc, mailer.Local},
		{"wrapped ENOSPC", fmt.Errorf("mailer: outbox: %w", enospc), mailer.Local},
		{"EACCES", &fs.PathError{Op: "mkdir", Path: "/x/y", Err: syscall.EACCES}, mailer.Local},
		{"rename", &os.LinkError{Op: "rename", Old: "/x/.a.tmp", New: "/x/a.eml", Err: syscall.EXDEV}, mailer.Local},
		{"template without a slot's value", noValue, mailer.Local},
		{"signing a message without a body", noBody, mailer.Local},
		{"dial refused, from the sender", refused, mailer.Temporary},
		{"dial refused, as the net package makes it", &net.OpError{Op: "dial", Net: "tcp",
			Err: &os.SyscallError{Syscall: "connect", Err: syscall.ECONNREFUSED}}, mailer.Temporary},
		{"timeout", &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}, mailer.Temporary},
		{"421, from the sender", reply421, mailer.SlowDown},
		{"invalid address", errors.New("mailer: invalid to"), mailer.Permanent},
	} {
		if got := mailer.Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify(%v) = %v, want %v", tc.name, tc.err, got, tc.want)
		}
		wantTemp := tc.want == mailer.Temporary || tc.want == mailer.SlowDown
		if got := mailer.IsTemporary(tc.err); got != wantTemp {
			t.Errorf("%s: IsTemporary(%v) = %v, want %v", tc.name, tc.err, got, wantTemp)
		}
	}
}
