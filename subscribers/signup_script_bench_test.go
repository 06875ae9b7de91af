package subscribers_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

// BenchmarkSignupScript runs newAddressScript alone for new addresses, 50
// to a pipeline as a busy group commit sends them, and reports Redis's CPU
// per signup (INFO cpu): the script's own cost, without the service, the
// HTTP client or the gate around it, and so steadier from run to run than
// the closed-loop bench. Run it alone on the server: INFO counts every
// client's work.
func BenchmarkSignupScript(b *testing.B) {
	rdb := redistest.Client(b)
	ctx := context.Background()
	c := subscribers.Consent{Action: subscribers.ActionSignup, Newsletters: []string{"daily"}, IP: "203.0.113.5",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36",
		Source:    "https://news.example/world/story", Wording: "v3"}
	if err := subscribers.LoadSignupScript(rdb); err != nil {
		b.Fatal(err)
	}
	before := redisCPU(b, rdb)
	n := int64(0)
	for b.Loop() {
		p := rdb.Pipeline()
		cmds := make([]*redis.Cmd, 50)
		for i := range cmds {
			n++
			c.At = time.Now()
			addr := "reader" + strconv.FormatInt(n, 10) + "@example.org"
			cmds[i] = p.Do(ctx, subscribers.NewAddressSignupCommand(rdb, n, addr, c.Newsletters, c, "A Reader")...)
		}
		_, _ = p.Exec(ctx)
		for _, cmd := range cmds {
			if res, err := cmd.Int64Slice(); err != nil || res[1] != 1 {
				b.Fatalf("signup script: %v %v", res, err)
			}
		}
	}
	b.ReportMetric((redisCPU(b, rdb)-before)/float64(n)*1e6, "redis-µs/signup")
}
