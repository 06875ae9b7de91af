package subscribers_test

import (
	"fmt"
	"strings"
	"testing"

	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

// BenchmarkMemoryPerConfirmedSubscriber signs 10,000 readers up as the
// form does (a realistic address, a name, two newsletters, one of a few
// browsers' user agents and one of a few pages), confirms each through its
// email's token, and reports the Redis bytes per confirmed reader: MEMORY
// USAGE summed over every key of the test's database but the newsletters,
// divided by the readers, and the same per kind of key (B/sub is the
// subscribers' hashes, B/dict the partitions' dictionaries of consent
// values, which grow with the distinct values, not with the readers).
func BenchmarkMemoryPerConfirmedSubscriber(b *testing.B) {
	const n = 10000
	redistest.NeedsReal(b, "MEMORY USAGE")
	total, byKind, _ := measureMemory(b, n)
	for b.Loop() {
	}
	b.ReportMetric(float64(total)/n, "B/subscriber")
	for kind, bytes := range byKind {
		b.ReportMetric(float64(bytes)/n, "B/"+kind)
	}
}

// TestMemoryPerConfirmedSubscriber holds the bound: at most 400
// bytes of Redis per confirmed reader, measured as the benchmark does.
func TestMemoryPerConfirmedSubscriber(t *testing.T) {
	if testing.Short() {
		t.Skip("signs up 10,000 readers")
	}
	redistest.NeedsReal(t, "MEMORY USAGE")
	const n = 10000
	total, byKind, largest := measureMemory(t, n)
	t.Logf("%.1f B per confirmed reader; by kind of key: %v", float64(total)/n, byKind)
	if per := float64(total) / n; per > 400 {
		t.Errorf("%.1f B of Redis per confirmed reader, want at most 400 (by kind: %v)", per, byKind)
	}
	// The keys that grow with the readers are a partition's index and
	// audiences; at 10,000,000 readers none may pass 64 MB.
	at10M := float64(largest.bytes) * 10_000_000 / n
	t.Logf("largest key %s: %d B, %.1f MB at 10,000,000 readers", largest.key, largest.bytes, at10M/(1<<20))
	if at10M > 64<<20 {
		t.Errorf("key %s would hold %.0f MB at 10,000,000 readers, want under 64", largest.key, at10M/(1<<20))
	}
}

// sizedKey is a key and its MEMORY USAGE.
type sizedKey struct {
	key   string
	bytes int64
}

// measureMemory signs up and confirms n readers and returns the MEMORY
// USAGE of every key but the newsletters, in all and per kind of key, and
// the largest key.
func measureMemory(tb testing.TB, n int) (int64, map[string]int64, sizedKey) {
	e := MustEnv(tb, "daily-brief", "weekend-edition")
	signupAndConfirm(tb, e, n)
	var total int64
	var largest sizedKey
	byKind := map[string]int64{}
	for key := range MustDumpDB(tb, e.rdb) {
		if key == "nl:{nl}:newsletters" {
			continue
		}
		bytes, err := e.rdb.MemoryUsage(ctx, key, 0).Result()
		if err != nil {
			tb.Fatal(err)
		}
		total += bytes
		byKind[keyKind(key)] += bytes
		if bytes > largest.bytes {
			largest = sizedKey{key, bytes}
		}
	}
	return total, byKind, largest
}

// signupAndConfirm signs n readers up as the form does (a realistic
// address, a name, two newsletters, a browser's user agent and the page)
// and confirms each through its email's token.
func signupAndConfirm(tb testing.TB, e *env, n int) {
	tb.Helper()
	for i := range n {
		meta := subscribers.RequestMeta{IP: fmt.Sprintf("203.0.%d.%d", i/250%250, i%250+1),
			UserAgent: userAgents[i%len(userAgents)], Source: sources[i%len(sources)]}
		req := subscribers.SignupRequest{Email: fmt.Sprintf("olena.kovalenko.%d@example-mail.com", i),
			Name: "Olena Kovalenko", Newsletters: []string{"daily-brief", "weekend-edition"}, Meta: meta}
		if err := e.svc.Subscribe(ctx, req); err != nil {
			tb.Fatal(err)
		}
	}
	for i, c := range e.rec.Confirmations() {
		meta := subscribers.RequestMeta{IP: "198.51.100.7", UserAgent: userAgents[(i+1)%len(userAgents)], Source: sources[0]}
		if _, err := e.svc.Confirm(ctx, c.Token, meta); err != nil {
			tb.Fatal(err)
		}
	}
}

// userAgents and sources are the browsers and pages the readers of the
// memory benchmark sign up with.
var (
	userAgents = []string{
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
		"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
		"Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
	}
	sources = []string{
		"https://news.example.com/newsletters/daily-brief",
		"https://news.example.com/2026/12/05/city-council-budget",
		"https://news.example.com/",
	}
)

// keyKind names what a key holds, for the memory breakdown: its name
// without the partition tag and ids ("nl:{r07}:sub:4551" is "sub").
func keyKind(key string) string {
	parts := strings.Split(key, ":")
	if len(parts) < 3 {
		return key
	}
	kind := parts[2]
	if kind == "audience" || kind == "throttle" {
		kind += "-" + parts[len(parts)-1]
	}
	return kind
}
