package api_test

import (
	"net/http"
	"strings"
	"testing"
)

var editorRoutes = []struct{ method, path, body string }{
	{"PUT", "/v1/newsletters/x", `{"name":"X"}`},
	{"GET", "/v1/newsletters", ""},
	{"GET", "/v1/subscribers/a@example.org", ""},
	{"DELETE", "/v1/subscribers/a@example.org", ""},
}

func TestEditorRoutesRequireToken(t *testing.T) {
	auths := []struct{ name, header string }{
		{"no token", ""},
		{"wrong token", "Bearer nope"},
		{"token prefix", "Bearer to"},
		{"empty bearer", "Bearer "},
		{"basic scheme", "Basic tok"},
		{"bare token", "tok"},
	}
	e := newEnv(t)
	for _, rt := range editorRoutes {
		for _, a := range auths {
			t.Run(rt.method+" "+rt.path+" "+a.name, func(t *testing.T) {
				hdr := []string{"Content-Type", "application/json"}
				if a.header != "" {
					hdr = append(hdr, "Authorization", a.header)
				}
				r := e.do(rt.method, rt.path, strings.NewReader(rt.body), hdr...)
				wantJSONError(t, r, http.StatusUnauthorized, "unauthorized")
				if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate = %q, want a Bearer challenge", r.Header.Get("WWW-Authenticate"))
				}
			})
		}
	}
	if r := e.editor("GET", "/v1/newsletters", ""); !strings.Contains(r.Body, `"newsletters":[]`) {
		t.Errorf("GET /v1/newsletters = %s, want the empty list: rejected PUTs must store nothing", r.Body)
	}
}

func TestEditorRoutesAcceptToken(t *testing.T) {
	e := newEnv(t)
	for _, rt := range editorRoutes {
		t.Run(rt.method+" "+rt.path, func(t *testing.T) {
			r := e.editor(rt.method, rt.path, rt.body)
			if r.Status == http.StatusUnauthorized || r.Status >= 500 {
				t.Errorf("status = %d with the right token (body %s)", r.Status, r.Body)
			}
		})
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		method, path string
		status       int
		code         string // for JSON errors
	}{
		{"GET", "/no/such/page", 404, "not_found"},
		{"GET", "/v1/subscriptions", 405, "method_not_allowed"},
		{"DELETE", "/v1/subscriptions", 405, "method_not_allowed"},
		{"POST", "/healthz", 405, "method_not_allowed"},
		{"GET", "/healthz", 200, ""},
		{"GET", "/readyz", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.do(tt.method, tt.path, nil)
			if tt.code != "" {
				wantJSONError(t, r, tt.status, tt.code)
			} else if r.Status != tt.status || !strings.Contains(r.Body, `"ok"`) {
				t.Errorf("got %d %s, want %d ok", r.Status, r.Body, tt.status)
			}
			wantSecurityHeaders(t, r)
		})
	}
}

func TestNotFoundPage(t *testing.T) {
	e := newEnv(t)
	wantHTML(t, e.do("GET", "/no/such/page", nil, "Accept", "text/html"), http.StatusNotFound, "Page not found")
}
