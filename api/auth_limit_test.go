package api_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/throttle"
)

// publicV1 are the routes under /v1 that need no token.
var publicV1 = map[string]bool{
	"POST /v1/subscriptions":    true,
	"OPTIONS /v1/subscriptions": true,
	// Providers' webhooks: signed by the provider, not an editor.
	"POST /v1/webhooks/ses":      true,
	"POST /v1/webhooks/postmark": true,
	"POST /v1/webhooks/mailgun":  true,
	"POST /v1/webhooks/sendgrid": true,
}

// editorRoutesOf returns every route s serves under /v1 but the public ones.
func editorRoutesOf(s *api.Server) []gin.RouteInfo {
	var out []gin.RouteInfo
	for _, r := range s.Routes() {
		if strings.HasPrefix(r.Path, "/v1/") && !publicV1[r.Method+" "+r.Path] {
			out = append(out, r)
		}
	}
	return out
}

var routeParam = regexp.MustCompile(`[:*]([a-z_]+)`)

// fillParams puts a value in each parameter of a route path.
func fillParams(path string) string {
	return routeParam.ReplaceAllStringFunc(path, func(p string) string {
		if p[1:] == "email" {
			return "a@example.org"
		}
		return "x"
	})
}

// Tokens for the log check: long and distinctive, so that finding one in
// the log cannot be a coincidence.
const (
	rightToken = "right-editor-token-7c1e9a4b52d8"
	wrongToken = "wrong-editor-token-0f3d6b2a91c4"
)

func rightTokenOnly(cfg *api.Config, _ *redis.Client) { cfg.APITokens = []string{rightToken} }

func TestEveryEditorRouteNeedsTheToken(t *testing.T) {
	logs := &syncBuffer{}
	e, s := newEnvWith(t, logs, rightTokenOnly)
	routes := editorRoutesOf(s)
	if len(routes) < 10 {
		t.Fatalf("only %d editor routes found: %v", len(routes), routes)
	}
	auths := []struct{ name, header string }{
		{"no token", ""},
		{"wrong token", "Bearer " + wrongToken},
		{"right token, wrong scheme", "Basic " + rightToken},
		{"right token, no scheme", rightToken},
	}
	for _, rt := range routes {
		path := fillParams(rt.Path)
		for _, a := range auths {
			t.Run(rt.Method+" "+rt.Path+" "+a.name, func(t *testing.T) {
				hdr := []string{"Content-Type", "application/json"}
				if a.header != "" {
					hdr = append(hdr, "Authorization", a.header)
				}
				r := e.do(rt.Method, path, strings.NewReader(`{"name":"X"}`), hdr...)
				wantJSONError(t, r, http.StatusUnauthorized, "unauthorized")
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q", r.Header.Get("WWW-Authenticate"))
				}
				if strings.Contains(r.Body, rightToken) || strings.Contains(r.Body, wrongToken) {
					t.Errorf("the answer echoes a token: %s", r.Body)
				}
			})
		}
		// With the right token the route answers, whatever it answers, and
		// its error paths log what they log.
		r := e.do(rt.Method, path, strings.NewReader(`{"name":"X"}`),
			"Authorization", "Bearer "+rightToken, "Content-Type", "application/json")
		if r.Status == http.StatusUnauthorized {
			t.Errorf("%s %s refuses the right token", rt.Method, path)
		}
	}
	e.srv.Close() // every handler has logged
	wantNoTokenInLogs(t, logs.String())
}

func wantNoTokenInLogs(t *testing.T, logs string) {
	t.Helper()
	if !strings.Contains(logs, "Request served") {
		t.Fatalf("the log holds no request lines; is it captured?\n%s", logs)
	}
	for _, tok := range []string{rightToken, wrongToken} {
		if strings.Contains(logs, tok) {
			t.Fatalf("the log contains the token %q:\n%s", tok, logs)
		}
	}
	if strings.Contains(strings.ToLower(logs), "authorization") || strings.Contains(logs, "Bearer") {
		t.Fatalf("the log mentions the Authorization header:\n%s", logs)
	}
}

func TestAuthFailuresAreLimited(t *testing.T) {
	logs := &syncBuffer{}
	e, _ := newEnvWith(t, logs, func(cfg *api.Config, rdb *redis.Client) {
		rightTokenOnly(cfg, rdb)
		behindProxy(cfg)
		cfg.AuthFailureLimit = throttle.NewWindow(rdb, "nl:{nl}:throttle:authfail:", throttle.Rate{N: 10, Per: time.Minute})
	})
	get := func(ip, auth string) response {
		hdr := []string{"X-Forwarded-For", ip}
		if auth != "" {
			hdr = append(hdr, "Authorization", auth)
		}
		return e.do("GET", "/v1/newsletters", nil, hdr...)
	}
	for i := range 10 {
		auth := "Bearer " + wrongToken
		if i%2 == 1 {
			auth = "" // a missing token is a failure too
		}
		if r := get("192.0.2.1", auth); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d %s, want 401", i+1, r.Status, r.Body)
		}
	}
	for i, auth := range []string{"Bearer " + wrongToken, "", "Bearer " + wrongToken} {
		r := get("192.0.2.1", auth)
		got := wantJSONError(t, r, http.StatusTooManyRequests, "rate_limited")
		if i == 0 && got.Message != "Too many failed attempts from your address. Please try again later." {
			t.Errorf("message = %q", got.Message)
		}
		wantRetryAfter(t, r, 60)
		if r.Header.Get("WWW-Authenticate") != "" {
			t.Errorf("a refused request carries a challenge")
		}
	}
	// While the client is past its limit even the right token is refused,
	// before it is looked at: a right guess among wrong ones tells
	// nothing (issue 17, item 2). Another client is unaffected.
	r := get("192.0.2.1", "Bearer "+rightToken)
	wantJSONError(t, r, http.StatusTooManyRequests, "rate_limited")
	wantRetryAfter(t, r, 60)
	if r := get("192.0.2.2", "Bearer "+wrongToken); r.Status != http.StatusUnauthorized {
		t.Fatalf("another IP = %d, want 401", r.Status)
	}
	if r := get("192.0.2.3", "Bearer "+rightToken); r.Status != http.StatusOK {
		t.Fatalf("right token from another IP = %d %s, want 200", r.Status, r.Body)
	}
	// The public routes do not count as editor failures.
	if r := e.do("GET", "/healthz", nil, "X-Forwarded-For", "192.0.2.3"); r.Status != http.StatusOK {
		t.Fatalf("healthz = %d", r.Status)
	}
	e.srv.Close()
	wantNoTokenInLogs(t, logs.String())
}
