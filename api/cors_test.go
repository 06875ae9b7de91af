package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
)

// allowOrigins allows two origins, one written loosely.
func allowOrigins(cfg *api.Config, _ *redis.Client) {
	cfg.AllowedOrigins = []string{"https://www.example.org", "HTTPS://Shop.Example.org/"}
}

// corsHeaders returns the Access-Control-* headers of r.
func corsHeaders(r response) http.Header {
	h := http.Header{}
	for k, v := range r.Header {
		if strings.HasPrefix(k, "Access-Control-") {
			h[k] = v
		}
	}
	return h
}

func wantVary(t *testing.T, r response, names ...string) {
	t.Helper()
	vary := strings.Join(r.Header.Values("Vary"), ", ")
	for _, n := range names {
		if !strings.Contains(vary, n) {
			t.Errorf("Vary = %q, want it to name %s", vary, n)
		}
	}
}

// TestCrossSiteSignupsAreRefused: a page of another site cannot make its
// visitors' browsers sign people up (issue 17, item 9): a browser request
// whose Origin is neither allowed nor the service's own, or, without
// Origin, whose Sec-Fetch-Site is cross-site, answers 403 and stores
// nothing; the service's own pages, allowed origins and requests without
// those headers (servers, curl) pass.
func TestCrossSiteSignupsAreRefused(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), func(cfg *api.Config, rdb *redis.Client) {
		allowOrigins(cfg, rdb)
		cfg.BaseURL = "https://news.example.org/newsletter"
	})
	e.putNewsletter("daily", "Daily")
	for _, hdr := range [][]string{
		{"Origin", "https://evil.example"},
		{"Origin", "null"},
		{"Origin", "https://evil.example", "Sec-Fetch-Site", "cross-site"},
		{"Sec-Fetch-Site", "cross-site"},
	} {
		wantJSONError(t, e.postJSON(`{"email":"victim@example.org","newsletters":["daily"]}`, hdr...), http.StatusForbidden, "forbidden")
		wantHTML(t, e.postForm("email=victim%40example.org&newsletter=daily", hdr...), http.StatusForbidden)
	}
	e.assertNoSignupState()
	for i, hdr := range [][]string{
		nil,
		{"Origin", "https://news.example.org"},
		{"Origin", "https://www.example.org"},
		{"Sec-Fetch-Site", "same-origin"},
		{"Sec-Fetch-Site", "same-site"},
		{"Sec-Fetch-Site", "none"},
	} {
		if r := e.postJSON(fmt.Sprintf(`{"email":"reader%d@example.org","newsletters":["daily"]}`, i), hdr...); r.Status != http.StatusAccepted {
			t.Errorf("signup with %v = %d %s, want 202", hdr, r.Status, r.Body)
		}
	}
}

func TestCORSSignup(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), allowOrigins)
	e.putNewsletter("daily", "Daily")
	tests := []struct {
		origin  string
		allowed bool
	}{
		{"https://www.example.org", true},
		{"https://shop.example.org", true},
		{"https://SHOP.example.org", true},
		{"http://www.example.org", false},
		{"https://www.example.org:8443", false},
		{"https://www.example.org.evil.example", false},
		{"https://evil.example", false},
		{"null", false},
		{"", false},
	}
	for _, tt := range tests {
		t.Run("origin "+tt.origin, func(t *testing.T) {
			var hdr []string
			if tt.origin != "" {
				hdr = []string{"Origin", tt.origin}
			}
			r := e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`, hdr...)
			// A browser's request from another site's page is refused
			// (issue 17, item 9); one without Origin passes.
			if want := tt.allowed || tt.origin == ""; (r.Status == http.StatusAccepted) != want {
				t.Fatalf("signup = %d %s; want accepted %v", r.Status, r.Body, want)
			} else if !want {
				wantJSONError(t, r, http.StatusForbidden, "forbidden")
			}
			wantVary(t, r, "Origin")
			got := corsHeaders(r)
			if !tt.allowed {
				if len(got) != 0 {
					t.Fatalf("origin %q got CORS headers %v", tt.origin, got)
				}
				return
			}
			if got.Get("Access-Control-Allow-Origin") != tt.origin {
				t.Errorf("Access-Control-Allow-Origin = %q, want %q", got.Get("Access-Control-Allow-Origin"), tt.origin)
			}
			if !strings.Contains(got.Get("Access-Control-Expose-Headers"), "Retry-After") {
				t.Errorf("Access-Control-Expose-Headers = %q, want Retry-After exposed", got.Get("Access-Control-Expose-Headers"))
			}
			if got.Get("Access-Control-Allow-Credentials") != "" {
				t.Errorf("credentials allowed: the API uses none")
			}
		})
	}
}

func TestCORSPreflight(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), allowOrigins)
	tests := []struct {
		name, origin, method string
		allowed              bool
	}{
		{"allowed origin", "https://www.example.org", "POST", true},
		{"allowed origin, other case", "https://Shop.example.org", "POST", true},
		{"unknown origin", "https://evil.example", "POST", false},
		{"allowed origin, DELETE", "https://www.example.org", "DELETE", false},
		{"allowed origin, no method", "https://www.example.org", "", false},
		{"no origin", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			hdr := []string{"Access-Control-Request-Headers", "content-type"}
			if tt.origin != "" {
				hdr = append(hdr, "Origin", tt.origin)
			}
			if tt.method != "" {
				hdr = append(hdr, "Access-Control-Request-Method", tt.method)
			}
			r := e.do("OPTIONS", "/v1/subscriptions", nil, hdr...)
			if r.Status != http.StatusNoContent || r.Body != "" {
				t.Fatalf("preflight = %d %q, want 204 and no body", r.Status, r.Body)
			}
			if allow := r.Header.Get("Allow"); !strings.Contains(allow, "POST") || !strings.Contains(allow, "OPTIONS") {
				t.Errorf("Allow = %q", allow)
			}
			wantVary(t, r, "Origin", "Access-Control-Request-Method", "Access-Control-Request-Headers")
			wantSecurityHeaders(t, r)
			got := corsHeaders(r)
			if !tt.allowed {
				if len(got) != 0 {
					t.Fatalf("got CORS headers %v", got)
				}
				return
			}
			want := map[string]string{
				"Access-Control-Allow-Origin":  tt.origin,
				"Access-Control-Allow-Methods": "POST",
				"Access-Control-Allow-Headers": "Content-Type, Accept",
				"Access-Control-Max-Age":       "600",
			}
			for k, v := range want {
				if got.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, got.Get(k), v)
				}
			}
		})
	}
}

func TestCORSOnRateLimitedSignup(t *testing.T) {
	e, _ := newEnvWith(t, t.Output(), func(cfg *api.Config, rdb *redis.Client) {
		allowOrigins(cfg, rdb)
		signupLimit(1)(cfg, rdb)
	})
	e.postJSON(`{}`, "Origin", "https://www.example.org")
	r := e.postJSON(`{}`, "Origin", "https://www.example.org")
	wantJSONError(t, r, http.StatusTooManyRequests, "rate_limited")
	if r.Header.Get("Access-Control-Allow-Origin") != "https://www.example.org" {
		t.Fatalf("a refused signup lacks Access-Control-Allow-Origin, so the page cannot read why")
	}
}

func TestCORSNeverOnEditorRoutes(t *testing.T) {
	e, s := newEnvWith(t, t.Output(), allowOrigins)
	for _, rt := range editorRoutesOf(s) {
		for _, method := range []string{rt.Method, "OPTIONS"} {
			t.Run(method+" "+rt.Path, func(t *testing.T) {
				r := e.do(method, fillParams(rt.Path), strings.NewReader(`{}`), "Origin", "https://www.example.org",
					"Access-Control-Request-Method", rt.Method, "Authorization", "Bearer "+editorToken,
					"Content-Type", "application/json")
				if got := corsHeaders(r); len(got) != 0 {
					t.Fatalf("%s %s = %d with CORS headers %v", method, rt.Path, r.Status, got)
				}
			})
		}
	}
}
