package main

import (
	"io"
	"net/http"
	"newsletter"
	"strconv"
	"strings"
	"testing"

	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

// mustHarnessWith starts the service in mode with extra variables, on a
// fresh database.
func mustHarnessWith(t *testing.T, mode Mode, extra map[string]string) *harness {
	t.Helper()
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: redistest.URL(t)}
	h.main = h.run(mode, extra)
	h.url = "http://" + h.main.Addr()
	return h
}

// answer is what a client sees of a response.
type answer struct {
	status int
	header http.Header
	body   string
}

// post posts body and reads the whole answer; header holds name, value pairs.
func (h *harness) post(path, contentType, body string, header ...string) answer {
	h.t.Helper()
	resp := h.request("POST", path, contentType, body, header...)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		h.t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header, string(b)}
}

func signupBody(email string) string {
	return `{"email":"` + email + `","newsletters":["daily"]}`
}

// signupBurst posts n signups of distinct addresses and returns the
// statuses, checking that every 429 says when to come back.
func (h *harness) signupBurst(n int, header ...string) []int {
	h.t.Helper()
	statuses := make([]int, n)
	for i := range n {
		a := h.post("/v1/subscriptions", "application/json", signupBody("burst-"+strconv.Itoa(i)+"@example.org"), header...)
		statuses[i] = a.status
		if a.status != http.StatusTooManyRequests {
			continue
		}
		if secs, err := strconv.Atoi(a.header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
			h.t.Errorf("signup %d: Retry-After = %q, want 1 to 60 seconds", i, a.header.Get("Retry-After"))
		}
		if !strings.Contains(a.body, `"code":"rate_limited"`) {
			h.t.Errorf("signup %d: 429 body %s, want rate_limited", i, a.body)
		}
	}
	return statuses
}

// wantFirstAccepted fails unless the first n statuses are 202 and the rest 429.
func wantFirstAccepted(t *testing.T, statuses []int, n int) {
	t.Helper()
	for i, got := range statuses {
		want := http.StatusAccepted
		if i >= n {
			want = http.StatusTooManyRequests
		}
		if got != want {
			t.Fatalf("signup %d = %d, want %d; all: %v", i, got, want, statuses)
		}
	}
}

func TestAbuseSignupRateBehindTrustedProxy(t *testing.T) {
	t.Parallel()
	h := mustHarnessWith(t, ModeServe, map[string]string{
		"NEWSLETTER_TRUSTED_PROXIES": "127.0.0.0/8",
		"NEWSLETTER_SIGNUP_RATE":     "10/m",
	})
	h.mustNewsletter("daily", "Daily Brief")

	wantFirstAccepted(t, h.signupBurst(30, "X-Forwarded-For", "203.0.113.7"), 10)
	// Another client behind the same proxy, and the proxy itself, are not held back.
	wantFirstAccepted(t, h.signupBurst(3, "X-Forwarded-For", "203.0.113.8"), 3)
	wantFirstAccepted(t, h.signupBurst(1), 1)
	// A client cannot escape by naming itself after its real address.
	wantFirstAccepted(t, h.signupBurst(1, "X-Forwarded-For", "198.51.100.1, 203.0.113.7"), 0)
}

func TestAbuseSignupRateIgnoresForwardedForFromUntrustedPeers(t *testing.T) {
	t.Parallel()
	h := mustHarnessWith(t, ModeServe, map[string]string{"NEWSLETTER_SIGNUP_RATE": "10/m"})
	h.mustNewsletter("daily", "Daily Brief")
	statuses := make([]int, 0, 30)
	for i := range 30 {
		// Each signup claims another client; all count against 127.0.0.1.
		statuses = append(statuses, h.signupBurst(1, "X-Forwarded-For", "203.0.113."+strconv.Itoa(i+1))...)
	}
	wantFirstAccepted(t, statuses, 10)
}

// sameAnswer fails unless b is a as a client sees it, but for the headers
// that differ on every answer.
func sameAnswer(t *testing.T, what string, a, b answer) {
	t.Helper()
	strip := func(h http.Header) http.Header {
		h = h.Clone()
		h.Del("X-Request-Id")
		h.Del("Date")
		return h
	}
	if a.status != b.status || a.body != b.body {
		t.Errorf("%s: %d %q, want %d %q", what, b.status, b.body, a.status, a.body)
	}
	ha, hb := strip(a.header), strip(b.header)
	for k := range mergeKeys(ha, hb) {
		if strings.Join(ha[k], ", ") != strings.Join(hb[k], ", ") {
			t.Errorf("%s: header %s = %q, want %q", what, k, hb[k], ha[k])
		}
	}
}

func mergeKeys(a, b http.Header) map[string]bool {
	keys := map[string]bool{}
	for k := range a {
		keys[k] = true
	}
	for k := range b {
		keys[k] = true
	}
	return keys
}

func TestAbuseSignupEnumeration(t *testing.T) {
	t.Parallel()
	h := mustHarnessWith(t, ModeServe, map[string]string{"NEWSLETTER_SIGNUP_RATE": "100/m"})
	h.mustNewsletter("daily", "Daily Brief")
	s := h.seeder()
	pending := s.add("pending", 1, newsletter.StatusPending, "daily")[0]
	confirmed := s.add("confirmed", 1, newsletter.StatusConfirmed, "daily")[0]

	kinds := []struct {
		name, contentType string
		body              func(email string) string
		header            []string
	}{
		{"JSON", "application/json", signupBody, nil},
		{"form", "application/x-www-form-urlencoded", func(email string) string {
			return "email=" + strings.ReplaceAll(email, "@", "%40") + "&newsletter=daily"
		}, []string{"Accept", "text/html"}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			signup := func(email string) answer {
				return h.post("/v1/subscriptions", k.contentType, k.body(email), k.header...)
			}
			fresh := signup("new-" + k.name + "@example.org")
			if fresh.status != http.StatusAccepted && fresh.status != http.StatusOK {
				t.Fatalf("new address = %d %s", fresh.status, fresh.body)
			}
			throttledAddr := "again-" + k.name + "@example.org"
			signup(throttledAddr)
			sameAnswer(t, "pending address", fresh, signup(pending))
			sameAnswer(t, "confirmed address", fresh, signup(confirmed))
			sameAnswer(t, "address signed up a minute ago (throttled)", fresh, signup(throttledAddr))
			sameAnswer(t, "confirmed address in upper case", fresh, signup(strings.ToUpper(confirmed)))
		})
	}
}
