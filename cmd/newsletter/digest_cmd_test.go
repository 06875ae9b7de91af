package main

import (
	"bytes"
	"encoding/json"
	"newsletter"
	"strings"
	"testing"
	"time"
)

func TestDigestCommandSendsAndWaits(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	h.seeder().add("reader", 50, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"CLI story"}, time.Hour)
	env := testEnv(h.redisURL, h.smtp.URL())
	getenv := func(k string) string { return env[k] }

	var stdout, stderr bytes.Buffer
	code := run([]string{"digest", "send", "daily", "--wait"}, getenv, &stdout, &stderr)
	var d struct {
		ID     string
		Status string
		Counts struct{ Total, Sent int }
	}
	if err := json.Unmarshal(stdout.Bytes(), &d); err != nil {
		t.Fatalf("stdout %q: %v (stderr %q)", stdout.String(), err, stderr.String())
	}
	if code != 0 || d.Status != "sent" || d.Counts.Sent != 50 || d.Counts.Total != 50 {
		t.Fatalf("exit %d, digest %+v", code, d)
	}
	if !strings.Contains(stderr.String(), "50/50 100%") {
		t.Fatalf("progress bar never showed 50/50: %q", stderr.String())
	}
	if n := h.smtp.Count(); n != 50 {
		t.Fatalf("%d messages, want 50", n)
	}

	stdout.Reset()
	if code := run([]string{"digest", "status", d.ID}, getenv, &stdout, &stderr); code != 0 || !strings.Contains(stdout.String(), `"status": "sent"`) {
		t.Fatalf("status = %d %s", code, stdout.String())
	}
	if code := run([]string{"digest", "status", "nope"}, getenv, &stdout, &stderr); code != 1 {
		t.Fatalf("status of an unknown digest exit %d, want 1", code)
	}
	if code := run([]string{"digest", "send", "daily"}, getenv, &stdout, &stderr); code != 1 || !strings.Contains(stderr.String(), "no_articles") {
		t.Fatalf("send with nothing new: exit %d, stderr %q", code, stderr.String())
	}
}

func TestProgressLine(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	p := newProgress(&buf, 1000)
	p.first = 0
	got := p.line(250, p.start.Add(5*time.Second))
	for _, want := range []string{"250/1000", " 25%", "50/s", "15s left"} {
		if !strings.Contains(got, want) {
			t.Errorf("line %q lacks %q", got, want)
		}
	}
}
