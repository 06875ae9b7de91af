package mailer_test

import (
	"context"
	"errors"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"testing"

	"newsletter/mailer"
)

var emlName = regexp.MustCompile(`^\d{8}T\d{6}\.\d{9}-[a-z2-7]+\.eml$`)

func TestOutboxWritesParseableFiles(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "not", "yet")
	o := mailer.NewOutbox(dir)
	defer o.Close()
	subjects := []string{"first", "second", "third"}
	for _, s := range subjects {
		m := newMessage("ann@example.net")
		m.Subject = s
		if err := o.Send(context.Background(), m); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(subjects) {
		t.Fatalf("%d files, want %d (temporary files left?)", len(entries), len(subjects))
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	if !slices.IsSorted(names) { // ReadDir sorts by name: the order must be the order of sending
		t.Fatalf("names %v", names)
	}
	for i, name := range names {
		if !emlName.MatchString(name) {
			t.Errorf("file name %q", name)
		}
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		msg, err := mail.ReadMessage(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := msg.Header.Get("Subject"); got != subjects[i] {
			t.Errorf("%s: Subject %q, want %q", name, got, subjects[i])
		}
		checkAlternative(t, msg, "Hello in text.", "<p>Hello in <b>HTML</b>.</p>")
	}
}

func TestOutboxRefusesBadMessagesAndCancelledContexts(t *testing.T) {
	dir := t.TempDir()
	o := mailer.NewOutbox(dir)
	m := newMessage("ann@example.net")
	m.To = "nobody"
	if err := o.Send(context.Background(), m); err == nil {
		t.Error("Send of an invalid message succeeded")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := o.Send(ctx, newMessage("ann@example.net")); !errors.Is(err, context.Canceled) {
		t.Errorf("Send with a cancelled context: %v", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("%d files written", len(entries))
	}
}
