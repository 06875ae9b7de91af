package main

import (
	"fmt"
	"newsletter"
	"sort"
	"sync"
	"testing"
	"time"
)

// addParallel seeds n confirmed subscribers with several goroutines.
func (s *seeder) addParallel(prefix string, n, workers int, nl string) []string {
	var mu sync.Mutex
	var all []string
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addrs := s.add(fmt.Sprintf("%s%d", prefix, w), n/workers, newsletter.StatusConfirmed, nl)
			mu.Lock()
			all = append(all, addrs...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	return all
}

func TestConfirmationsStayFastDuringADigest(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds 20,000 subscribers")
	}
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	h.seeder().addParallel("reader", 20000, 8, "daily")
	h.postArticles([]string{"Big story"}, time.Hour)

	_, d := h.createDigest("daily", `{}`)
	h.waitCount(500, 60*time.Second)
	const signups = 20
	sent := map[string]time.Time{}
	for i := range signups {
		addr := fmt.Sprintf("new-%d@example.org", i)
		sent[addr] = time.Now()
		if code, body := h.signup(addr, "daily"); code != 202 {
			t.Fatalf("signup = %d %s", code, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	latencies := confirmationLatencies(t, h, sent, 30*time.Second)
	status := h.waitDigest(d.ID, 10*time.Minute)
	p50, p95 := latencies[len(latencies)/2], latencies[len(latencies)*95/100]
	fmt.Printf("confirmation latency during a 20,000-recipient digest: p50 %s, p95 %s\n", p50, p95)
	if p95 > 5*time.Second || status.Counts.Sent != 20000 {
		t.Fatalf("p95 %s (want under 5s); digest %+v", p95, status.Counts)
	}
}

// confirmationLatencies waits for a confirmation to each address in sent
// and returns the delays from signup to arrival, sorted.
func confirmationLatencies(t *testing.T, h *harness, sent map[string]time.Time, timeout time.Duration) []time.Duration {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		arrived := map[string]time.Time{}
		for _, m := range h.smtp.Messages() {
			if _, ok := sent[m.To[0]]; ok {
				arrived[m.To[0]] = m.At
			}
		}
		if len(arrived) == len(sent) {
			var out []time.Duration
			for addr, at := range arrived {
				out = append(out, at.Sub(sent[addr]))
			}
			sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
			return out
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d confirmations arrived within %s", len(arrived), len(sent), timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
