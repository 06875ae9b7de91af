package main

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"newsletter"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"newsletter/mailer/mailtest"
)

// oneIn reports whether addr falls in a 1-in-n slice of addresses, the same
// slice every time.
func oneIn(addr string, n uint32) bool {
	h := fnv.New32a()
	h.Write([]byte(addr))
	return h.Sum32()%n == 0
}

func TestTemporaryRefusalsAreRetried(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	audience := h.seeder().add("reader", 500, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Story"}, time.Hour)
	refused := 0
	for _, a := range audience {
		if oneIn(a, 10) {
			refused++
		}
	}
	h.smtp.SetReply(func(rcpt string, attempt int) *smtp.SMTPError {
		if attempt == 1 && oneIn(rcpt, 10) {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "Try again later"}
		}
		return nil
	})

	_, d := h.createDigest("daily", `{}`)
	final := h.waitDigest(d.ID, 120*time.Second)
	waitQuiet()
	missing, duplicates := missingAndDuplicates(h, audience)
	t.Logf("%d recipients refused once with 451", refused)
	if refused < 20 || len(missing) > 0 || duplicates > 0 || final.Counts.Sent != 500 || final.Status != "sent" {
		t.Fatalf("%d refused once; %d missing, %d duplicates; digest %s %+v", refused, len(missing), duplicates, final.Status, final.Counts)
	}
}

func TestHardBouncesAreSuppressed(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	audience := h.seeder().add("reader", 200, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Story"}, time.Hour)
	var mu sync.Mutex
	attempts := map[string]int{}
	h.smtp.SetReply(func(rcpt string, attempt int) *smtp.SMTPError {
		if oneIn(rcpt, 10) {
			mu.Lock()
			defer mu.Unlock()
			attempts[rcpt] = attempt
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "No such user"}
		}
		return nil
	})
	bounced := 0
	for _, a := range audience {
		if oneIn(a, 10) {
			bounced++
		}
	}

	_, d := h.createDigest("daily", `{}`)
	final := h.waitDigest(d.ID, 60*time.Second)
	waitQuiet()
	if final.Counts.Failed != bounced || final.Counts.Sent != 200-bounced || final.Status != "sent" {
		t.Fatalf("digest %s %+v, want %d failed", final.Status, final.Counts, bounced)
	}
	code, body := h.editor("GET", "/v1/suppressions?limit=1000", "")
	var list struct{ Total int }
	json.Unmarshal([]byte(body), &list)
	if code != 200 || list.Total != bounced {
		t.Fatalf("suppressions = %d %s, want %d", code, body, bounced)
	}

	h.smtp.Reset()
	time.Sleep(1100 * time.Millisecond)
	h.postArticles([]string{"Next story"}, 0)
	_, d2 := h.createDigest("daily", `{}`)
	second := h.waitDigest(d2.ID, 60*time.Second)
	waitQuiet()
	mu.Lock()
	defer mu.Unlock()
	for addr, n := range attempts {
		if n != 1 {
			t.Errorf("%s was tried %d times; a hard bounce is never retried", addr, n)
		}
	}
	if second.Counts.Skipped != bounced || second.Counts.Sent != 200-bounced || h.smtp.Count() != 200-bounced {
		t.Fatalf("next digest %+v with %d arrived; want the %d suppressed skipped", second.Counts, h.smtp.Count(), bounced)
	}
}

func TestSMTPDownThenUp(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("waits 30 s for the SMTP server")
	}
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	audience := h.seeder().add("reader", 300, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Story"}, time.Hour)
	addr := h.smtp.Addr()
	h.smtp.Close()

	_, d := h.createDigest("daily", `{}`)
	time.Sleep(30 * time.Second)
	up, err := mailtest.Start(addr)
	if err != nil {
		t.Fatalf("restart SMTP on %s: %v", addr, err)
	}
	defer up.Close()
	h.smtp = up
	final := h.waitDigest(d.ID, 120*time.Second)
	waitQuiet()
	missing, duplicates := missingAndDuplicates(h, audience)
	if len(missing) > 0 || duplicates > 0 || final.Counts.Sent != 300 {
		t.Fatalf("after SMTP came back: %d missing, %d duplicates, %+v", len(missing), duplicates, final.Counts)
	}
}

func TestSendRateAcrossTwoWorkers(t *testing.T) {
	t.Parallel()
	h := mustServeOnly(t)
	h.mustNewsletter("daily", "Daily Brief")
	h.seeder().add("reader", 1000, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Story"}, time.Hour)
	rate := map[string]string{"NEWSLETTER_SEND_RATE": "200"}
	h.run(ModeWorker, rate)
	h.run(ModeWorker, rate)

	_, d := h.createDigest("daily", `{}`)
	h.waitDigest(d.ID, 60*time.Second)
	msgs := h.smtp.WaitFor(t, 1000, 10*time.Second)
	worst := 0
	for i := range msgs { // the most messages in any one-second window
		j := i
		for j < len(msgs) && msgs[j].At.Sub(msgs[i].At) < time.Second {
			j++
		}
		worst = max(worst, j-i)
	}
	overall := float64(len(msgs)-1) / msgs[len(msgs)-1].At.Sub(msgs[0].At).Seconds()
	fmt.Printf("send rate 200/s with two workers: %.1f/s overall, at most %d in any second\n", overall, worst)
	if worst > 210 || overall > 210 {
		t.Fatalf("rate %.1f/s overall, %d in one second; want at most 210", overall, worst)
	}
}
