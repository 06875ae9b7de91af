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
// dir, which every write (Send, SendRaw, a Stream's Send) creates if it is
// missing. File names sort by time and never collide, e.g.
// 20261128T192633.123456789-<random>.eml (UTC). Each file is written under a
// temporary name (a dot file ending in .tmp) and then renamed, so a reader
// listing *.eml never sees half a file. Files are readable by the owner only.
//
// A failure of the file system is returned as "mailer: outbox: " and the
// *fs.PathError or *os.LinkError, which names the operation and the path
// ("mailer: outbox: mkdir /x/y: permission denied"); Classify calls it
// Local.
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
	return o.write(outboxName(time.Now()), raw)
}

// write creates the outbox folder if it is missing, writes raw to a
// temporary file in it and renames that to name. Its errors are Local.
func (o *Outbox) write(name string, raw []byte) error {
	if err := os.MkdirAll(o.dir, 0o755); err != nil {
		return outboxError(err)
	}
	f, err := os.CreateTemp(o.dir, ".outbox-*.tmp")
	if err != nil {
		return outboxError(err)
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
		return outboxError(err)
	}
	return nil
}

// outboxError marks a failure of the outbox's file system as Local. err,
// an *fs.PathError or *os.LinkError, names the operation and the path.
func outboxError(err error) error {
	return local(fmt.Errorf("mailer: outbox: %w", err))
}

func outboxName(t time.Time) string {
	return t.UTC().Format("20060102T150405.000000000") + "-" + strings.ToLower(rand.Text()) + ".eml"
}

// Close does nothing; an Outbox holds no resources.
func (o *Outbox) Close() error { return nil }
