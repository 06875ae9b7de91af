package digests_test

import (
	"bytes"
	"context"
	"log/slog"
	"newsletter"
	"strings"
	"sync"
	"testing"
	"time"
)

// kyiv returns the time of day h:m on March 16, 2026 in Kyiv (UTC+2).
func kyiv(tb testing.TB, h, m int) time.Time {
	tb.Helper()
	loc, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		tb.Fatalf("LoadLocation: %v", err)
	}
	return time.Date(2026, 3, 16, h, m, 0, 0, loc)
}

// syncBuffer is a bytes.Buffer safe for the logger of concurrent calls.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// MustScheduled returns a newsletter daily scheduled at 07:00 in Kyiv.
func (e *env) MustScheduled(tb testing.TB, schedule, maxLateness string) *newsletter.Newsletter {
	tb.Helper()
	return e.MustNewsletter(tb, newsletter.Newsletter{ID: "daily", Name: "Daily", Schedule: schedule,
		Timezone: "Europe/Kyiv", MaxLateness: maxLateness})
}

// mustRunSchedule runs the schedule of n once and returns what it logged.
func (e *env) mustRunSchedule(tb testing.TB, n *newsletter.Newsletter) string {
	tb.Helper()
	var buf syncBuffer
	if err := e.svc.RunSchedule(context.Background(), n, slog.New(slog.NewTextHandler(&buf, nil))); err != nil {
		tb.Fatalf("RunSchedule: %v", err)
	}
	return buf.String()
}

func TestRunSchedule(t *testing.T) {
	tests := []struct {
		name        string
		schedule    string
		maxLateness string
		at          time.Time
		articleAge  time.Duration
		wantDigests int64
		wantLog     string
	}{
		{"on time", "0 7 * * *", "1h", kyiv(t, 7, 10), time.Hour, 1, "Scheduled digest created"},
		{"too late", "0 7 * * *", "1h", kyiv(t, 9, 30), time.Hour, 0, "skipped"},
		{"late within max_lateness", "0 7 * * *", "3h", kyiv(t, 9, 30), time.Hour, 1, "Scheduled digest created"},
		{"before today's slot", "0 7 * * *", "1h", kyiv(t, 6, 59), time.Hour, 0, "skipped"},
		{"no new articles", "0 7 * * *", "1h", kyiv(t, 7, 10), 25 * time.Hour, 0, "no new articles"},
		{"no schedule", "", "", kyiv(t, 7, 10), time.Hour, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t)
			e.clock.Set(tt.at)
			n := e.MustScheduled(t, tt.schedule, tt.maxLateness)
			e.MustArticles(t, "daily", -tt.articleAge)
			log := e.mustRunSchedule(t, n)
			if got := e.MustDigestCount(t, "daily"); got != tt.wantDigests {
				t.Fatalf("%d digests, want %d; log:\n%s", got, tt.wantDigests, log)
			}
			if got := int64(len(e.disp.IDs())); got != tt.wantDigests {
				t.Fatalf("%d dispatched, want %d", got, tt.wantDigests)
			}
			if (tt.wantLog == "" && log != "") || !strings.Contains(log, tt.wantLog) {
				t.Fatalf("log:\n%s\nwant it to say %q", log, tt.wantLog)
			}
		})
	}
}

func TestRunScheduleOncePerSlot(t *testing.T) {
	e := MustEnv(t)
	e.clock.Set(kyiv(t, 7, 10))
	n := e.MustScheduled(t, "0 7 * * *", "1h")
	e.MustArticles(t, "daily", -time.Hour)

	var wg sync.WaitGroup
	errs := make(chan error, 5)
	for range 5 {
		wg.Go(func() { errs <- e.svc.RunSchedule(context.Background(), n, slog.New(slog.DiscardHandler)) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("RunSchedule: %v", err)
		}
	}
	e.clock.Set(kyiv(t, 7, 40)) // the same slot, with a new article
	e.MustArticles(t, "daily", -time.Minute)
	e.mustRunSchedule(t, n)
	if got := e.MustDigestCount(t, "daily"); got != 1 {
		t.Fatalf("%d digests, want 1", got)
	}
	if got := e.mustDigestHashes(t); got != 1 {
		t.Fatalf("%d digest hashes, want 1", got)
	}
	if got := len(e.disp.IDs()); got != 1 {
		t.Fatalf("%d dispatched, want 1", got)
	}

	e.clock.Set(kyiv(t, 7, 10).AddDate(0, 0, 1)) // the next day's slot
	e.mustRunSchedule(t, n)
	if got := e.MustDigestCount(t, "daily"); got != 2 {
		t.Fatalf("%d digests after the next slot, want 2", got)
	}
}

// mustDigestHashes counts the digest hashes in Redis.
func (e *env) mustDigestHashes(tb testing.TB) int {
	tb.Helper()
	ctx := context.Background()
	n := 0
	it := e.rdb.ScanType(ctx, 0, "nl:{nl}:digest:*", 100, "hash").Iterator()
	for it.Next(ctx) {
		n++
	}
	if err := it.Err(); err != nil {
		tb.Fatalf("SCAN: %v", err)
	}
	return n
}
