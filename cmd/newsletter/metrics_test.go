package main

import (
	"bufio"
	"newsletter"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape returns every sample of /metrics by its name and labels as written.
func (h *harness) scrape() map[string]float64 {
	h.t.Helper()
	code, body := h.do("GET", "/metrics", "", "")
	if code != 200 {
		h.t.Fatalf("GET /metrics = %d", code)
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		if i := strings.LastIndexByte(line, ' '); i > 0 {
			v, _ := strconv.ParseFloat(line[i+1:], 64)
			out[line[:i]] = v
		}
	}
	return out
}

func TestMetricsMoveWithTheWork(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	before := h.scrape()
	h.signup("reader@example.org", "daily")
	link := confirmLink(t, h.smtp.WaitFor(t, 1, 10*time.Second)[0])
	h.confirm(tokenOf(t, link))
	h.smtp.WaitFor(t, 2, 10*time.Second)
	h.seeder().add("more", 2, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Story"}, time.Hour)
	_, d := h.createDigest("daily", `{}`)
	h.waitDigest(d.ID, 30*time.Second)
	after := h.scrape()

	moved := func(name string) float64 { return after[name] - before[name] }
	want := map[string]float64{
		"newsletter_signups_total":                                               1,
		"newsletter_confirmations_total":                                         1,
		`newsletter_messages_sent_total{kind="confirmation",newsletter="daily"}`: 1,
		`newsletter_messages_sent_total{kind="welcome",newsletter="daily"}`:      1,
		`newsletter_messages_sent_total{kind="digest",newsletter="daily"}`:       3,
		"newsletter_smtp_send_seconds_count":                                     5,
	}
	for name, n := range want {
		if got := moved(name); got != n {
			t.Errorf("%s moved by %v, want %v", name, got, n)
		}
	}
	for _, state := range []string{"pending", "outbox"} {
		if _, ok := after[`newsletter_queue_tasks{queue="confirm",state="`+state+`"}`]; !ok {
			t.Errorf("no %s gauge of the confirm queue in /metrics", state)
		}
	}
}
