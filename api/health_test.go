package api_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
	"newsletter/templates"
)

// readyServer returns a server whose /readyz asks ready, on Subscribers
// that reach rdb.
func readyServer(t *testing.T, rdb redis.UniversalClient, ready func(context.Context) error) *env {
	t.Helper()
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	svc := mustService(t, subscribers.NewStore(rdb), nil, slog.New(slog.DiscardHandler))
	srv := httptest.NewServer(api.New(api.Config{Subscribers: svc, Newsletters: svc, Templates: tpl,
		APITokens: []string{editorToken}, Logger: slog.New(slog.DiscardHandler), Ready: ready}))
	t.Cleanup(srv.Close)
	return &env{t: t, srv: srv, svc: svc}
}

func TestReadyzAsksTheReadyCheck(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t)
	tests := []struct {
		name   string
		err    error
		status int
		body   string
	}{
		{"ready", nil, http.StatusOK, `{"status":"ok"}`},
		{"not ready, with a reason", &api.ReadinessError{Reason: "Redis is a read-only replica, not a master.",
			Err: errors.New("ROLE of 10.0.0.5:6379 is slave")}, http.StatusServiceUnavailable,
			`{"reason":"Redis is a read-only replica, not a master.","status":"unavailable"}`},
		{"a wrapped reason", fmt.Errorf("check: %w", &api.ReadinessError{Reason: "The Redis Cluster reports cluster_state:fail."}),
			http.StatusServiceUnavailable, `{"reason":"The Redis Cluster reports cluster_state:fail.","status":"unavailable"}`},
		{"no reason given", errors.New("dial tcp 10.0.0.5:6379: AUTH s3cr3t refused"), http.StatusServiceUnavailable,
			`{"reason":"Redis does not answer.","status":"unavailable"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var deadline time.Duration
			e := readyServer(t, rdb, func(ctx context.Context) error {
				if d, ok := ctx.Deadline(); ok {
					deadline = time.Until(d)
				}
				return tt.err
			})
			r := e.do("GET", "/readyz", nil)
			if r.Status != tt.status || r.Body != tt.body {
				t.Fatalf("/readyz = %d %s, want %d %s", r.Status, r.Body, tt.status, tt.body)
			}
			if deadline <= 0 || deadline > time.Second {
				t.Errorf("the check ran with %v left, want a deadline within a second", deadline)
			}
			if strings.Contains(r.Body, "10.0.0.5") || strings.Contains(r.Body, "s3cr3t") {
				t.Errorf("/readyz tells the error's details: %s", r.Body)
			}
		})
	}
}

// TestReadyzWithoutACheckPingsRedis: without Config.Ready, /readyz is 200
// while Redis answers a PING, as before.
func TestReadyzWithoutACheckPingsRedis(t *testing.T) {
	t.Parallel()
	if r := readyServer(t, redistest.Client(t), nil).do("GET", "/readyz", nil); r.Status != http.StatusOK {
		t.Fatalf("/readyz on a live Redis = %d %s, want 200", r.Status, r.Body)
	}
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	r := readyServer(t, down, nil).do("GET", "/readyz", nil)
	if want := `{"reason":"Redis does not answer.","status":"unavailable"}`; r.Status != http.StatusServiceUnavailable || r.Body != want {
		t.Fatalf("/readyz on a Redis that does not answer = %d %s, want 503 %s", r.Status, r.Body, want)
	}
}

// TestRedisDownAnswers503: a request that fails because Redis cannot be
// reached answers 503 unavailable with Retry-After, not 500: the service
// will answer again in a moment, and a reader's request may be sent again
// safely (issue 17, item 15).
func TestRedisDownAnswers503(t *testing.T) {
	t.Parallel()
	down := redis.NewClient(&redis.Options{Addr: "127.0.0.1:1", MaxRetries: -1})
	t.Cleanup(func() { down.Close() })
	e := readyServer(t, down, nil)
	for _, r := range []response{
		e.postJSON(`{"email":"a@example.org","newsletters":["daily"]}`),
		e.editor("GET", "/v1/subscribers/a@example.org", ""),
	} {
		wantJSONError(t, r, http.StatusServiceUnavailable, "unavailable")
		if r.Header.Get("Retry-After") != "1" {
			t.Errorf("Retry-After = %q, want 1", r.Header.Get("Retry-After"))
		}
	}
}
