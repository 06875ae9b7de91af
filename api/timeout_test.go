package api_test

import (
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/subscribers"
)

// mustSilentRedis returns a client of a "Redis" that accepts connections
// and never answers. The client ignores context deadlines, as production's
// does, so only the request timeout can cut a request short; closing it at
// cleanup ends the calls still waiting.
func mustSilentRedis(t *testing.T) *redis.Client {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second})
	t.Cleanup(func() {
		rdb.Close()
		ln.Close()
	})
	return rdb
}

func TestRequestTimeout(t *testing.T) {
	logs := &syncBuffer{}
	e, _ := newEnvWith(t, logs, func(cfg *api.Config, _ *redis.Client) {
		cfg.Newsletters = subscribers.NewStore(mustSilentRedis(t))
		cfg.RequestTimeout = 300 * time.Millisecond
	})
	start := time.Now()
	r := e.editor("GET", "/v1/newsletters", "")
	took := time.Since(start)
	wantJSONError(t, r, http.StatusServiceUnavailable, "timeout")
	if took > 2*time.Second {
		t.Errorf("the timeout answer took %s, want about 300ms", took)
	}
	for _, h := range []string{"X-Content-Type-Options", "X-Frame-Options", "Content-Security-Policy", "Referrer-Policy"} {
		if r.Header.Get(h) == "" {
			t.Errorf("the timeout answer lacks %s", h)
		}
	}

	// A quick request is not touched by the timeout.
	r = e.do("GET", "/healthz", nil)
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Fatalf("healthz = %d %q %s", r.Status, r.Header.Get("Content-Type"), r.Body)
	}
	wantSecurityHeaders(t, r)
	// Nor is an answer without a body: it gets no Content-Type.
	r = e.do("OPTIONS", "/v1/subscriptions", nil)
	if r.Status != http.StatusNoContent || r.Header.Get("Content-Type") != "" {
		t.Fatalf("OPTIONS = %d with Content-Type %q, want 204 without one", r.Status, r.Header.Get("Content-Type"))
	}
}
