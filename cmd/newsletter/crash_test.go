package main

import (
	"fmt"
	"newsletter"
	"os"
	"os/exec"
	"sort"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// workerEnv is the environment of a worker subprocess on the harness's
// Redis and SMTP server.
func (h *harness) workerEnv(extra map[string]string) []string {
	env := []string{"PATH=" + os.Getenv("PATH"), "HOME=" + h.t.TempDir()}
	for k, v := range testEnv(h.redisURL, h.smtp.URL()) {
		env = append(env, k+"="+v)
	}
	for k, v := range extra {
		env = append(env, k+"="+v)
	}
	return env
}

// startWorkerProcess runs `newsletter worker` as a subprocess.
func (h *harness) startWorkerProcess(bin string, extra map[string]string) *exec.Cmd {
	h.t.Helper()
	cmd := exec.Command(bin, "worker")
	cmd.Env = h.workerEnv(extra)
	cmd.Stdout, cmd.Stderr = nil, nil
	if testing.Verbose() {
		cmd.Stderr = os.Stderr
	}
	if err := cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	return cmd
}

// waitCount waits until the SMTP server has at least n messages.
func (h *harness) waitCount(n int, timeout time.Duration) {
	h.t.Helper()
	deadline := time.Now().Add(timeout)
	for h.smtp.Count() < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("only %d of %d messages after %s", h.smtp.Count(), n, timeout)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// missingAndDuplicates compares what arrived with the audience.
func missingAndDuplicates(h *harness, audience []string) (missing []string, duplicates int) {
	got := copiesByAddress(h.smtp.Messages())
	for _, a := range audience {
		switch n := got[a]; {
		case n == 0:
			missing = append(missing, a)
		case n > 1:
			duplicates += n - 1
		}
	}
	sort.Strings(missing)
	return missing, duplicates
}

func TestKilledWorkerLosesNothing(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("crash test: runs worker processes")
	}
	// By default each outcome is recorded before the next message goes
	// out; NEWSLETTER_RECORD_EVERY=8 holds up to 8 per connection.
	t.Run("each outcome recorded", func(t *testing.T) { t.Parallel(); killMidDigest(t, 1) })
	t.Run("outcomes held by 8", func(t *testing.T) { t.Parallel(); killMidDigest(t, 8) })
}

// killMidDigest kills a worker sending a digest to 5,000 subscribers at
// about half, starts another and checks that everyone got the digest, and
// that the duplicates are at most what the first worker had sent or was
// sending without having recorded it: per connection, the message on the
// wire, or the recordEvery outcomes held.
func killMidDigest(t *testing.T, recordEvery int) {
	bin := mustBuild(t)
	h := mustServeOnly(t)
	h.mustNewsletter("daily", "Daily Brief")
	audience := h.seeder().add("reader", 5000, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Crash-proof story"}, time.Hour)
	const connections = 4
	env := map[string]string{
		"NEWSLETTER_SMTP_CONNECTIONS": fmt.Sprint(connections),
		"NEWSLETTER_RECORD_EVERY":     fmt.Sprint(recordEvery),
	}

	first := h.startWorkerProcess(bin, env)
	_, d := h.createDigest("daily", `{}`)
	h.waitCount(2500, 120*time.Second)
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()
	atKill := h.smtp.Count()

	h.startWorkerProcess(bin, env)
	final := h.waitDigest(d.ID, 240*time.Second)
	waitQuiet()
	missing, duplicates := missingAndDuplicates(h, audience)
	unrecorded := connections * recordEvery
	t.Logf("kill at %d sent: %d missing, %d duplicates (at most %d messages were on the wire or sent and not recorded)", atKill, len(missing), duplicates, unrecorded)
	fmt.Printf("kill test (NEWSLETTER_RECORD_EVERY=%d): %d missing, %d duplicates\n", recordEvery, len(missing), duplicates)
	if len(missing) > 0 || duplicates > unrecorded || final.Status != "sent" {
		t.Fatalf("digest %s %+v: %d missing (first %v), %d duplicates", final.Status, final.Counts, len(missing), first3(missing), duplicates)
	}
}

func first3(s []string) []string { return s[:min(3, len(s))] }

func TestSIGTERMHandsBackAndExits(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs worker processes")
	}
	bin := mustBuild(t)
	h := mustServeOnly(t)
	h.mustNewsletter("daily", "Daily Brief")
	audience := h.seeder().add("reader", 2000, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Story"}, time.Hour)
	h.smtp.SetReply(func(string, int) *smtp.SMTPError { time.Sleep(2 * time.Millisecond); return nil })

	first := h.startWorkerProcess(bin, nil)
	_, d := h.createDigest("daily", `{}`)
	h.waitCount(300, 60*time.Second)
	start := time.Now()
	first.Process.Signal(syscall.SIGTERM)
	err := first.Wait()
	took := time.Since(start)
	if err != nil || took > 10*time.Second {
		t.Fatalf("after SIGTERM the worker exited with %v after %s; want 0 within 10s", err, took)
	}
	atStop := h.smtp.Count()
	h.startWorkerProcess(bin, nil)
	final := h.waitDigest(d.ID, 120*time.Second)
	waitQuiet()
	missing, duplicates := missingAndDuplicates(h, audience)
	fmt.Printf("SIGTERM: exited in %s at %d sent; %d missing, %d duplicates\n", took.Round(time.Millisecond), atStop, len(missing), duplicates)
	if len(missing) > 0 || duplicates > 0 || final.Status != "sent" {
		t.Fatalf("%d missing, %d duplicates, digest %s %+v", len(missing), duplicates, final.Status, final.Counts)
	}
}
