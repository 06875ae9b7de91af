package api_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestHeadAnswersLikeGet: every GET route answers HEAD with GET's status
// and headers and no body, and changes nothing (issue 18: link checkers
// and mail scanners send HEAD; every link in our emails answered 405).
func TestHeadAnswersLikeGet(t *testing.T) {
	e, srv := newAdminEnv(t)
	e.putNewsletter("daily", "Daily")
	e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`)
	checked := 0
	for _, r := range srv.Routes() {
		if r.Method != http.MethodGet || strings.Contains(r.Path, "*") {
			continue
		}
		path := strings.NewReplacer(":email", "reader@example.org", ":id", "daily").Replace(r.Path)
		for _, auth := range []bool{false, true} {
			var get, head response
			if auth {
				get, head = e.editor("GET", path, ""), e.editor("HEAD", path, "")
			} else {
				get, head = e.do("GET", path, nil), e.do("HEAD", path, nil)
			}
			if head.Status != get.Status || head.Header.Get("Content-Type") != get.Header.Get("Content-Type") {
				t.Errorf("HEAD %s (editor %v) = %d %q, GET = %d %q", path, auth, head.Status, head.Header.Get("Content-Type"),
					get.Status, get.Header.Get("Content-Type"))
			}
			if head.Body != "" {
				t.Errorf("HEAD %s has a body: %.80q", path, head.Body)
			}
		}
		checked++
	}
	if checked < 15 {
		t.Fatalf("checked %d GET routes, want them all", checked)
	}
	// A confirmation link checked with HEAD stays unconfirmed.
	if r := e.do("HEAD", "/confirm?token=x", nil); r.Status == http.StatusMethodNotAllowed {
		t.Errorf("HEAD /confirm = 405")
	}
	if r := e.do("HEAD", "/v1/subscriptions", nil); r.Status != http.StatusMethodNotAllowed && r.Status != http.StatusNotFound {
		t.Errorf("HEAD of a POST-only route = %d, want 405 or 404", r.Status)
	}
}
