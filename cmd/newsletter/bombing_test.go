package main

import (
	"fmt"
	"sync"
	"testing"

	"newsletter/subscribers"
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

// TestBombingThroughSpellings: 30 signups for victim+1@ ... victim+30@
// from 30 IPs, and ten Gmail dot variants of one mailbox, used to send 30
// and 10 confirmation emails (issue 17, item 1). The confirmation limits
// key on the mailbox, so each mailbox gets one email, sent to the address
// as typed; and "This wasn't me" from it suppresses every spelling.
func TestBombingThroughSpellings(t *testing.T) {
	t.Parallel()
	h := mustHarnessWith(t, ModeAll, map[string]string{
		"NEWSLETTER_TRUSTED_PROXIES": "127.0.0.0/8", "NEWSLETTER_SIGNUP_RATE": "10/m"})
	h.mustNewsletter("daily", "Daily Brief")
	signup := func(addr string, ip int) {
		code, body := h.do("POST", "/v1/subscriptions", "application/json",
			`{"email":"`+addr+`","newsletters":["daily"]}`, "X-Forwarded-For", fmt.Sprintf("198.51.100.%d", ip))
		if code != 202 {
			t.Fatalf("signup of %s = %d %s, want 202", addr, code, body)
		}
	}
	for i := range 30 {
		signup(fmt.Sprintf("victim+%d@example.org", i+1), i+1)
	}
	gmail := []string{"v.ictimbox@gmail.com", "vi.ctimbox@gmail.com", "vic.timbox@gmail.com", "vict.imbox@gmail.com",
		"victi.mbox@gmail.com", "victim.box@gmail.com", "victimb.ox@gmail.com", "victimbo.x@gmail.com",
		"v.i.ctimbox@gmail.com", "victimbox@googlemail.com"}
	for i, addr := range gmail {
		signup(addr, 100+i)
	}
	waitQuiet()
	byMailbox := map[string][]string{}
	for _, m := range h.smtp.Messages() {
		byMailbox[subscribers.MailboxKey(m.To[0])] = append(byMailbox[subscribers.MailboxKey(m.To[0])], m.To[0])
	}
	if got := byMailbox["victim@example.org"]; len(got) != 1 || got[0] != "victim+1@example.org" {
		t.Errorf("victim@example.org got %v, want one email, to victim+1@example.org as typed", got)
	}
	if got := byMailbox["victimbox@gmail.com"]; len(got) != 1 || got[0] != "v.ictimbox@gmail.com" {
		t.Errorf("victimbox@gmail.com got %v, want one email, to v.ictimbox@gmail.com as typed", got)
	}

	// "This wasn't me" from that email suppresses the mailbox, however written.
	msg := h.smtp.Messages()
	for _, m := range msg {
		if m.To[0] != "victim+1@example.org" {
			continue
		}
		token := tokenOf(t, confirmLink(t, m))
		if code, body := h.do("POST", "/not-me", "application/x-www-form-urlencoded", "token="+token, "Accept", "application/json"); code != 200 {
			t.Fatalf("not-me = %d %s", code, body)
		}
	}
	before := len(h.smtp.Messages())
	signup("victim+later@example.org", 200)
	signup("VICTIM@example.org", 201)
	waitQuiet()
	if n := len(h.smtp.Messages()); n != before {
		t.Errorf("%d more emails after the mailbox said it was not them", n-before)
	}
}
