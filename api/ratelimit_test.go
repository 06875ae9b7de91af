package api_test

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/throttle"
	"newsletter/worker"
)

// newEnvWith is newEnv with the server's configuration changed by edit,
// and its log written to logs. It also returns the server, for its routes.
func newEnvWith(t *testing.T, logs io.Writer, edit func(cfg *api.Config, rdb *redis.Client)) (*env, *api.Server) {
	t.Helper()
	rdb := redistest.Client(t)
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	store := subscribers.NewStore(rdb)
	enq, err := worker.NewEnqueuer(rdb, []string{"a-test-secret-of-enough-length"})
	if err != nil {
		t.Fatalf("NewEnqueuer: %v", err)
	}
	svc := mustService(t, store, enq, logger)
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatalf("templates.Load: %v", err)
	}
	cfg := api.Config{Subscribers: svc, Newsletters: svc, Templates: tpl,
		APITokens: []string{editorToken}, ConfirmTTL: 168 * time.Hour, Logger: logger}
	edit(&cfg, rdb)
	s := api.New(cfg)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	return &env{t: t, rdb: rdb, srv: srv, svc: svc}, s
}

// syncBuffer is a log destination that handlers may write concurrently.
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

// behindProxy trusts the loopback test client as a proxy, so that
// X-Forwarded-For names the client.
func behindProxy(cfg *api.Config) {
	cfg.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
}

// signupLimit sets a signup limit of n a minute.
func signupLimit(n int) func(*api.Config, *redis.Client) {
	return func(cfg *api.Config, rdb *redis.Client) {
		cfg.SignupLimit = throttle.NewWindow(rdb, "nl:{nl}:throttle:signup:", throttle.Rate{N: n, Per: time.Minute})
	}
}

// wantRetryAfter checks that r says to come back in 1 to max seconds.
func wantRetryAfter(t *testing.T, r response, max int) {
	t.Helper()
	secs, err := strconv.Atoi(r.Header.Get("Retry-After"))
	if err != nil || secs < 1 || secs > max {
		t.Errorf("Retry-After = %q, want whole seconds from 1 to %d", r.Header.Get("Retry-After"), max)
	}
}

func TestSignupLimitPerClient(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), func(cfg *api.Config, rdb *redis.Client) {
		behindProxy(cfg)
		signupLimit(3)(cfg, rdb)
	})
	e.putNewsletter("daily", "Daily")
	signup := func(ip string, i int) response {
		return e.postJSON(`{"email":"reader`+strconv.Itoa(i)+`@example.org","newsletters":["daily"]}`, "X-Forwarded-For", ip)
	}
	for i := range 3 {
		if r := signup("192.0.2.1", i); r.Status != http.StatusAccepted {
			t.Fatalf("signup %d = %d %s, want 202", i, r.Status, r.Body)
		}
	}
	r := signup("192.0.2.1", 3)
	got := wantJSONError(t, r, http.StatusTooManyRequests, "rate_limited")
	if got.Message != "Too many signups from your address. Please try again later." {
		t.Errorf("message = %q", got.Message)
	}
	wantRetryAfter(t, r, 60)
	wantSecurityHeaders(t, r)

	page := e.postForm("email=reader%40example.org&newsletter=daily", "X-Forwarded-For", "192.0.2.1")
	wantHTML(t, page, http.StatusTooManyRequests, "Please try again later", "Too many signups from your address.")
	wantRetryAfter(t, page, 60)

	if r := signup("192.0.2.2", 9); r.Status != http.StatusAccepted {
		t.Fatalf("signup from another IP = %d %s, want 202", r.Status, r.Body)
	}
}

func TestSignupLimitCountsBadRequests(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), signupLimit(2))
	for range 2 {
		if r := e.postJSON(`{"email":`); r.Status != http.StatusBadRequest {
			t.Fatalf("malformed signup = %d %s, want 400", r.Status, r.Body)
		}
	}
	r := e.postJSON(`{"email":"a@example.org"}`)
	wantJSONError(t, r, http.StatusTooManyRequests, "rate_limited")
	// The first signup left the window a few milliseconds short of a
	// minute from now: rounded up, not down.
	if got := r.Header.Get("Retry-After"); got != "60" {
		t.Errorf("Retry-After = %q, want 60", got)
	}
}

func TestSignupLimitIgnoresUntrustedForwardedFor(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), signupLimit(2))
	e.putNewsletter("daily", "Daily")
	for i, ip := range []string{"192.0.2.1", "192.0.2.2", "192.0.2.3"} {
		r := e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`, "X-Forwarded-For", ip, "X-Real-IP", ip)
		if want := []int{202, 202, 429}[i]; r.Status != want {
			t.Fatalf("signup %d claiming %s = %d, want %d: the peer address counts", i, ip, r.Status, want)
		}
	}
}

func TestSignupLimitGroupsIPv6Networks(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), func(cfg *api.Config, rdb *redis.Client) {
		behindProxy(cfg)
		signupLimit(2)(cfg, rdb)
	})
	e.putNewsletter("daily", "Daily")
	for i, tt := range []struct {
		ip   string
		want int
	}{
		{"2001:db8:1:2::1", 202},
		{"2001:db8:1:2::2", 202},
		{"2001:db8:1:2:ffff:ffff:ffff:ffff", 429}, // the same /64
		{"2001:db8:1:3::1", 202},                  // the next /64
		{"::ffff:192.0.2.9", 202},
		{"192.0.2.9", 202},
		{"192.0.2.9", 429}, // IPv4-mapped and plain IPv4 are one client
	} {
		r := e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`, "X-Forwarded-For", tt.ip)
		if r.Status != tt.want {
			t.Fatalf("signup %d from %s = %d, want %d", i, tt.ip, r.Status, tt.want)
		}
	}
}

// TestSignupLimitPerIPv6Slash48: a /48 holder can rotate through 65,536
// /64s, each a fresh client; its network is limited too, at ten times the
// per-client rate (issue 17, item 13). A signup refused by the network's
// limit takes nothing from the client's, and other networks and IPv4
// clients are unaffected.
func TestSignupLimitPerIPv6Slash48(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), func(cfg *api.Config, rdb *redis.Client) {
		behindProxy(cfg)
		signupLimit(2)(cfg, rdb)
		cfg.SignupNetworkLimit = throttle.NewWindow(rdb, "nl:{nl}:throttle:signup48:", throttle.Rate{N: 20, Per: time.Minute})
	})
	e.putNewsletter("daily", "Daily")
	signup := func(ip string, i int) response {
		return e.postJSON(fmt.Sprintf(`{"email":"reader%d@example.org","newsletters":["daily"]}`, i), "X-Forwarded-For", ip)
	}
	accepted := 0
	for i := range 30 { // 30 fresh /64s of one /48, two signups each would be 60
		if r := signup(fmt.Sprintf("2001:db8:7:%x::1", i), i); r.Status == http.StatusAccepted {
			accepted++
		} else if r.Status != http.StatusTooManyRequests {
			t.Fatalf("signup %d = %d %s", i, r.Status, r.Body)
		} else {
			wantRetryAfter(t, r, 60)
		}
	}
	if accepted != 20 {
		t.Errorf("%d signups accepted from one /48, want 20 (ten times the per-/64 limit)", accepted)
	}
	if r := signup("2001:db8:8::1", 100); r.Status != http.StatusAccepted {
		t.Errorf("another /48 = %d, want 202", r.Status)
	}
	if r := signup("192.0.2.44", 101); r.Status != http.StatusAccepted {
		t.Errorf("an IPv4 client = %d, want 202", r.Status)
	}
}

func TestSignupAnswersAlikeUnderTheLimit(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), signupLimit(10))
	e.putNewsletter("daily", "Daily")
	body := `{"email":"reader@example.org","newsletters":["daily"]}`
	first := e.postJSON(body)
	for range 3 {
		r := e.postJSON(body)
		if r.Status != first.Status || r.Body != first.Body || !strings.Contains(r.Body, `"pending"`) {
			t.Fatalf("repeated signup = %d %s, want %d %s", r.Status, r.Body, first.Status, first.Body)
		}
		if r.Header.Get("Retry-After") != "" {
			t.Fatalf("accepted signup carries Retry-After %q", r.Header.Get("Retry-After"))
		}
	}
}
