package mailer

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Outbox is a Sender that writes each message as a .eml file into a folder,
// for development. It is safe for concurrent use.
type Outbox struct {
	DKIM *DKIM // when set (before the first Send), every message is signed

	dir string
}

// NewOutbox returns a Sender that writes each message as a .eml file into
// dir (created if missing). File names sort by time and never collide, e.g.
// 20261128T192633.123456789-<random>.eml (UTC). Each file is written under a
// temporary name (a dot file ending in .tmp) and then renamed, so a reader
// listing *.eml never sees half a file. Files are readable by the owner only.
func NewOutbox(dir string) *Outbox {
	return &Outbox{dir: dir}
}

// Send writes m into the outbox folder.
func (o *Outbox) Send(ctx context.Context, m *Message) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	raw, err := Bytes(m, WithDKIM(o.DKIM))
	if err != nil {
		return err
	}
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	return o.write(outboxName(time.Now()), raw)
}

// write writes raw to a temporary file in the outbox folder and renames it
// to name.
func (o *Outbox) write(name string, raw []byte) error {
	f, err := os.CreateTemp(o.dir, ".outbox-*.tmp")
	if err != nil {
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	tmp := f.Name()
	_, err = f.Write(raw)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(o.dir, name))
	}
	if err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	return nil
}

func outboxName(t time.Time) string {
	return t.UTC().Format("20060102T150405.000000000") + "-" + strings.ToLower(rand.Text()) + ".eml"
}

// Close does nothing; an Outbox holds no resources.
func (o *Outbox) Close() error { return nil }
