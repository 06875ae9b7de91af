package subscribers_test

import (
	"context"
	"fmt"
	"testing"

	"newsletter/subscribers"
)

// BenchmarkMemoryPerConfirmedSubscriber signs readers up as the form does
// (a realistic address, a name, two newsletters, the browser's user agent
// and the page), confirms each through its email's token, and reports the
// Redis bytes per confirmed reader: MEMORY USAGE summed over every key of
// the test's database but the newsletters, divided by the readers.
func BenchmarkMemoryPerConfirmedSubscriber(b *testing.B) {
	const n = 2000
	e := MustEnv(b, "daily-brief", "weekend-edition")
	ctx := context.Background()
	signupAndConfirm(b, e, n)
	var total int64
	for key := range MustDumpDB(b, e.rdb) {
		if key == "nl:{nl}:newsletters" {
			continue
		}
		bytes, err := e.rdb.MemoryUsage(ctx, key, 0).Result()
		if err != nil {
			b.Fatal(err)
		}
		total += bytes
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(total)/n, "B/subscriber")
}

// signupAndConfirm signs n readers up as the form does (a realistic
// address, a name, two newsletters, a browser's user agent and the page)
// and confirms each through its email's token.
func signupAndConfirm(tb testing.TB, e *env, n int) {
	tb.Helper()
	meta := subscribers.RequestMeta{IP: "203.0.113.77",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
		Source:    "https://news.example.com/newsletters/daily-brief"}
	for i := range n {
		req := subscribers.SignupRequest{Email: fmt.Sprintf("olena.kovalenko.%d@example-mail.com", i),
			Name: "Olena Kovalenko", Newsletters: []string{"daily-brief", "weekend-edition"}, Meta: meta}
		if err := e.svc.Subscribe(ctx, req); err != nil {
			tb.Fatal(err)
		}
	}
	for _, c := range e.rec.Confirmations() {
		if _, err := e.svc.Confirm(ctx, c.Token, meta); err != nil {
			tb.Fatal(err)
		}
	}
}
