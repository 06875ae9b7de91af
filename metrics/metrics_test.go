package metrics_test

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"newsletter/metrics"
)

// TestScrapeDegradesWhenASourceFails: with Redis down, a scrape used to
// answer 500 with the Redis address and error text and drop every metric
// (issue 17, item 8). Now it answers 200 with every other metric, says
// which family is missing, and keeps the error for the log.
func TestScrapeDegradesWhenASourceFails(t *testing.T) {
	var logs bytes.Buffer
	m := metrics.New()
	m.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	down := true
	m.AddGauges("newsletter_queue_tasks", "Tasks.", [2]string{"queue", "state"}, func() (map[[2]string]float64, error) {
		if down {
			return nil, errors.New("dial tcp 10.1.2.3:6379: connect: connection refused")
		}
		return map[[2]string]float64{{"default", "pending"}: 3}, nil
	})
	m.CountSignup()
	scrape := func() (int, string) {
		rec := httptest.NewRecorder()
		m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		body, _ := io.ReadAll(rec.Result().Body)
		return rec.Code, string(body)
	}

	code, body := scrape()
	if code != http.StatusOK {
		t.Fatalf("scrape with a source down = %d, want 200:\n%s", code, body)
	}
	for _, want := range []string{"newsletter_signups_total 1", "go_goroutines", "process_cpu_seconds_total",
		`newsletter_metrics_source_up{family="newsletter_queue_tasks"} 0`} {
		if !strings.Contains(body, want) {
			t.Errorf("the scrape lacks %q", want)
		}
	}
	for _, leak := range []string{"10.1.2.3", "connection refused", "dial tcp"} {
		if strings.Contains(body, leak) {
			t.Errorf("the scrape shows %q:\n%s", leak, body)
		}
	}
	if !strings.Contains(logs.String(), "connection refused") {
		t.Errorf("the log does not say why the family is missing: %s", logs.String())
	}

	down = false
	if _, body := scrape(); !strings.Contains(body, `newsletter_queue_tasks{queue="default",state="pending"} 3`) ||
		!strings.Contains(body, `newsletter_metrics_source_up{family="newsletter_queue_tasks"} 1`) {
		t.Errorf("the family did not come back with its source:\n%s", body)
	}
}
