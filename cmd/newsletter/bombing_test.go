package main

import (
	"fmt"
	"sync"
	"testing"
)

// TestBombingThroughProxies sends 500 signups for one victim from 50 client
// IPs (named by X-Forwarded-For from a trusted proxy) within a minute: each
// IP stays within its signup limit, and the victim gets one email.
func TestBombingThroughProxies(t *testing.T) {
	t.Parallel()
	h := mustHarnessWith(t, ModeAll, map[string]string{
		"NEWSLETTER_TRUSTED_PROXIES": "127.0.0.0/8", "NEWSLETTER_SIGNUP_RATE": "10/m"})
	h.mustNewsletter("daily", "Daily Brief")
	const ips, each = 50, 10
	var wg sync.WaitGroup
	var mu sync.Mutex
	codes := map[int]int{}
	for i := range ips {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				code, _ := h.do("POST", "/v1/subscriptions", "application/json",
					`{"email":"victim@example.org","newsletters":["daily"]}`, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
				mu.Lock()
				codes[code]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	waitQuiet()
	got := copiesByAddress(h.smtp.Messages())["victim@example.org"]
	fmt.Printf("bombing: %d signups answered %v; %d confirmation emails reached the victim\n", ips*each, codes, got)
	if codes[202] != ips*each || got != 1 {
		t.Fatalf("answers %v and %d emails; want 500 × 202 and exactly one email", codes, got)
	}
}
