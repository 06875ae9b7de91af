package main

import (
	"bufio"
	"io"
	"net/http"
	"newsletter"
	"strconv"
	"strings"
	"testing"
	"time"
)

// scrape returns every sample of /metrics by its name and labels as written.
func (h *harness) scrape() map[string]float64 {
	h.t.Helper()
	code, body := h.do("GET", "/metrics", "", "", "Authorization", "Bearer "+testToken)
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

// TestMetricsAreNoOracle: the counters move with each signup, so whoever
// reads them could tell whether an address was new (issue 17, item 3).
// /metrics answers editors only; with NEWSLETTER_METRICS_ADDR it is served
// on that listener alone, and the public one has none.
func TestMetricsAreNoOracle(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	if code, _ := h.do("GET", "/metrics", "", ""); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics without a token = %d, want 401", code)
	}
	if code, _ := h.do("GET", "/metrics", "", "", "Authorization", "Bearer not-the-token"); code != http.StatusUnauthorized {
		t.Errorf("GET /metrics with a wrong token = %d, want 401", code)
	}
	if _, ok := h.scrape()["newsletter_signups_total"]; !ok {
		t.Errorf("an editor's scrape lacks newsletter_signups_total")
	}

	m := h.run(ModeAll, map[string]string{"NEWSLETTER_HTTP_ADDR": "127.0.0.1:0", "NEWSLETTER_METRICS_ADDR": "127.0.0.1:0"})
	public := "http://" + m.Addr()
	for _, auth := range []string{"", "Bearer " + testToken} {
		req, _ := http.NewRequest("GET", public+"/metrics", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("public /metrics with a metrics listener (auth %q) = %d, want 404", auth, resp.StatusCode)
		}
	}
	resp, err := http.Get("http://" + m.MetricsAddr() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "newsletter_signups_total") {
		t.Errorf("the metrics listener = %d, want 200 with the metrics", resp.StatusCode)
	}
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
