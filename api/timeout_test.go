package api_test

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
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

// TestTimedOutHandlerTouchesNoOtherAnswer: handlers that outlive the
// request timeout (their Redis answers only after 700 ms, the timeout is
// 300 ms) write their late answers while quick requests come and go; each
// quick request gets its own answer, whole, with an id of its own, and
// the slow ones the timeout's. Run with -race, it also shows that a
// timed-out answer's buffer is never handed to another request.
func TestTimedOutHandlerTouchesNoOtherAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	slowRedis := redis.NewClient(&redis.Options{Addr: ln.Addr().String(), MaxRetries: -1, ReadTimeout: 700 * time.Millisecond})
	t.Cleanup(func() {
		slowRedis.Close()
		ln.Close()
	})
	e, _ := newEnvWith(t, &syncBuffer{}, func(cfg *api.Config, _ *redis.Client) {
		cfg.Newsletters = subscribers.NewStore(slowRedis)
		cfg.RequestTimeout = 300 * time.Millisecond
	})
	var wg sync.WaitGroup
	errs := make(chan string, 1000)
	for range 3 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", e.srv.URL+"/v1/newsletters", nil)
			req.Header.Set("Authorization", "Bearer "+editorToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				errs <- err.Error()
				return
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"timeout"`) {
				errs <- fmt.Sprintf("slow request: %d %s", resp.StatusCode, body)
			}
		})
	}
	var ids sync.Map
	deadline := time.Now().Add(1200 * time.Millisecond)
	for range 4 {
		wg.Go(func() {
			for time.Now().Before(deadline) {
				resp, err := http.Get(e.srv.URL + "/healthz")
				if err != nil {
					errs <- err.Error()
					return
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				id := resp.Header.Get("X-Request-Id")
				if resp.StatusCode != http.StatusOK || string(body) != `{"status":"ok"}` || id == "" {
					errs <- fmt.Sprintf("quick request: %d %q, id %q", resp.StatusCode, body, id)
				}
				if _, dup := ids.LoadOrStore(id, true); dup {
					errs <- "two answers with request id " + id
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for msg := range errs {
		t.Error(msg)
	}
}
