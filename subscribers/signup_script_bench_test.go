package subscribers

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/internal/redistest"
	"newsletter/throttle"
)

// BenchmarkSignupScript runs signupScript alone for new addresses, 50 to
// a pipeline as a busy group commit sends them, and reports Redis's CPU
// per call (INFO cpu): the script's own cost, without the service, the
// HTTP client or the gate around it, and so far steadier from run to run
// than the closed-loop bench. Run it alone on the server: INFO counts
// every client's work.
func BenchmarkSignupScript(b *testing.B) {
	rdb := redistest.Client(b)
	ctx := context.Background()
	limits := NewConfirmLimits(rdb, throttle.Rate{N: 1000, Per: time.Minute})
	c := Consent{Action: ActionSignup, Newsletters: []string{"daily"}, IP: "203.0.113.5", Source: "https://news.example/world/story",
		UserAgent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36", Wording: "v3"}
	if err := signupScript.Load(ctx, rdb).Err(); err != nil {
		b.Fatal(err)
	}
	before := redisCPUSeconds(b, rdb)
	n := int64(0)
	for b.Loop() {
		p := rdb.Pipeline()
		cmds := make([]*redis.Cmd, 50)
		for i := range cmds {
			n++
			addr := "reader" + strconv.FormatInt(n, 10) + "@example.org"
			mailbox := MailboxKey(addr)
			id := n*newsletter.Partitions + int64(partitionOfMailbox(mailbox))
			now := time.Now()
			c.At = now
			in := signupInput{addr: addr, mailbox: mailbox, nls: c.Newsletters, now: now, consent: c,
				limits: signupLimits{address: limits.args(mailbox).address}, name: "A Reader",
				outbox: []byte(`{"email":"` + addr + `","request_id":"0123456789abcdef"}`)}
			cmds[i] = p.Do(ctx, signupCommand(id, true, in, true)...)
		}
		_, _ = p.Exec(ctx)
		for _, cmd := range cmds {
			if res, err := cmd.Int64Slice(); err != nil || res[1] != 1 {
				b.Fatalf("signup script: %v %v", res, err)
			}
		}
	}
	b.ReportMetric((redisCPUSeconds(b, rdb)-before)/float64(n)*1e6, "redis-µs/signup")
}

// redisCPUSeconds is the CPU Redis has used, user and system.
func redisCPUSeconds(tb testing.TB, rdb *redis.Client) float64 {
	tb.Helper()
	info, err := rdb.Info(context.Background(), "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		for _, f := range []string{"used_cpu_user:", "used_cpu_sys:"} {
			if v, ok := strings.CutPrefix(line, f); ok {
				s, err := strconv.ParseFloat(v, 64)
				if err != nil {
					tb.Fatal(err)
				}
				total += s
			}
		}
	}
	return total
}
