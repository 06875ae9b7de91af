package main

import (
	"fmt"
	"net"
	"newsletter"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"newsletter/mailer/mailtest"
)

// ownRedis is a redis-server that a test starts, stops and starts again,
// keeping its data in an append-only file.
type ownRedis struct {
	t    *testing.T
	port int
	dir  string
	cmd  *exec.Cmd
}

func mustOwnRedis(t *testing.T) *ownRedis {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		t.Skip("redis-server is not installed")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	r := &ownRedis{t: t, port: port, dir: t.TempDir()}
	r.start()
	t.Cleanup(r.stop)
	return r
}

func (r *ownRedis) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

func (r *ownRedis) start() {
	r.t.Helper()
	r.cmd = exec.Command("redis-server", "--port", fmt.Sprint(r.port), "--bind", "127.0.0.1",
		"--dir", r.dir, "--appendonly", "yes", "--appendfsync", "always", "--save", "")
	if err := r.cmd.Start(); err != nil {
		r.t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port)); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.t.Fatal("redis-server did not start")
}

// stop ends the server the way a restart does: SIGTERM, which makes Redis
// flush its append-only file.
func (r *ownRedis) stop() {
	if r.cmd != nil && r.cmd.Process != nil {
		r.cmd.Process.Signal(syscall.SIGTERM)
		r.cmd.Wait()
		r.cmd = nil
	}
}

func TestRedisRestartMidSend(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("restarts a Redis")
	}
	own := mustOwnRedis(t)
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: own.url()}
	h.start()
	h.mustNewsletter("daily", "Daily Brief")
	audience := h.seeder().add("reader", 3000, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Story"}, time.Hour)
	h.smtp.SetReply(func(string, int) *smtp.SMTPError { time.Sleep(time.Millisecond); return nil })

	_, d := h.createDigest("daily", `{}`)
	h.waitCount(1000, 60*time.Second)
	own.stop()
	time.Sleep(2 * time.Second)
	own.start()

	final := h.waitDigest(d.ID, 180*time.Second)
	waitQuiet()
	missing, duplicates := missingAndDuplicates(h, audience)
	fmt.Printf("redis restart: %d missing, %d duplicates\n", len(missing), duplicates)
	if len(missing) > 0 || duplicates > 0 || final.Status != "sent" || final.Counts.Sent != 3000 {
		t.Fatalf("after the restart: %d missing, %d duplicates, digest %s %+v", len(missing), duplicates, final.Status, final.Counts)
	}
}
