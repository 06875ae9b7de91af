package api_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"newsletter/subscribers"
)

// suppressionsJSON is GET /v1/suppressions.
type suppressionsJSON struct {
	Suppressions []struct {
		Email  string    `json:"email"`
		Reason string    `json:"reason"`
		Source string    `json:"source"`
		At     time.Time `json:"at"`
	} `json:"suppressions"`
	Total  int64 `json:"total"`
	Offset int   `json:"offset"`
	Limit  int   `json:"limit"`
}

// suppress puts addr on the suppression list through the store, at.
func (e *env) suppress(addr string, at time.Time) {
	e.t.Helper()
	err := subscribers.NewStore(e.rdb).Suppress(context.Background(), addr, "550 5.1.1 user unknown", subscribers.SourceSMTP, at)
	if err != nil {
		e.t.Fatalf("Suppress(%q): %v", addr, err)
	}
}

// suppressions fetches one page of the suppression list; query may be "".
func (e *env) suppressions(query string) suppressionsJSON {
	e.t.Helper()
	r := e.editor("GET", "/v1/suppressions"+query, "")
	if r.Status != http.StatusOK {
		e.t.Fatalf("GET suppressions%s: status %d, body %s", query, r.Status, r.Body)
	}
	var s suppressionsJSON
	if err := json.Unmarshal([]byte(r.Body), &s); err != nil {
		e.t.Fatalf("GET suppressions%s: %v in %s", query, err, r.Body)
	}
	return s
}

// emails lists the addresses of a page, in order.
func (s suppressionsJSON) emails() []string {
	out := []string{}
	for _, x := range s.Suppressions {
		out = append(out, x.Email)
	}
	return out
}

func TestListSuppressions(t *testing.T) {
	e := newEnv(t)
	if r := e.editor("GET", "/v1/suppressions", ""); r.Status != http.StatusOK ||
		!strings.Contains(r.Body, `"suppressions":[]`) || !strings.Contains(r.Body, `"total":0`) {
		t.Errorf("empty list: %d %s, want 200 with an empty list", r.Status, r.Body)
	}
	start := time.Now().Truncate(time.Second)
	for i := range 3 {
		e.suppress(fmt.Sprintf("r%d@example.org", i), start.Add(time.Duration(i)*time.Minute))
	}
	for _, tc := range []struct {
		query         string
		offset, limit int
		want          []string
	}{
		{"", 0, 100, []string{"r2@example.org", "r1@example.org", "r0@example.org"}},
		{"?limit=2", 0, 2, []string{"r2@example.org", "r1@example.org"}},
		{"?offset=1&limit=1", 1, 1, []string{"r1@example.org"}},
		{"?offset=2&limit=1000", 2, 1000, []string{"r0@example.org"}},
		{"?offset=3", 3, 100, []string{}},
	} {
		t.Run("query "+tc.query, func(t *testing.T) {
			got := e.suppressions(tc.query)
			if got.Total != 3 || got.Offset != tc.offset || got.Limit != tc.limit || !slices.Equal(got.emails(), tc.want) {
				t.Errorf("page = %q total %d offset %d limit %d; want %q total 3 offset %d limit %d",
					got.emails(), got.Total, got.Offset, got.Limit, tc.want, tc.offset, tc.limit)
			}
		})
	}
	s := e.suppressions("?limit=1").Suppressions[0]
	if s.Reason != "550 5.1.1 user unknown" || s.Source != "smtp" || !s.At.Equal(start.Add(2*time.Minute)) {
		t.Errorf("suppression = %+v", s)
	}
}

func TestListSuppressionsBadQuery(t *testing.T) {
	e := newEnv(t)
	for query, field := range map[string]string{
		"?offset=-1":    "offset",
		"?offset=x":     "offset",
		"?offset=":      "offset",
		"?limit=0":      "limit",
		"?limit=1001":   "limit",
		"?limit=1.5":    "limit",
		"?limit=9e9999": "limit",
	} {
		t.Run(query, func(t *testing.T) {
			got := wantJSONError(t, e.editor("GET", "/v1/suppressions"+query, ""), http.StatusBadRequest, "bad_request")
			if got.Field != field {
				t.Errorf("field = %q, want %q", got.Field, field)
			}
		})
	}
}

func TestDeleteSuppression(t *testing.T) {
	e := newEnv(t)
	e.suppress("Bob@Example.org", time.Now())
	e.suppress("news+a/b@example.org", time.Now())
	for _, path := range []string{"bob@example.org", "news+a%2Fb@example.org"} {
		if r := e.editor("DELETE", "/v1/suppressions/"+path, ""); r.Status != http.StatusNoContent {
			t.Errorf("DELETE %s: %d %s, want 204", path, r.Status, r.Body)
		}
		wantJSONError(t, e.editor("DELETE", "/v1/suppressions/"+path, ""), http.StatusNotFound, "not_found")
	}
	if got := e.suppressions(""); got.Total != 0 {
		t.Errorf("suppressions after DELETE = %q", got.emails())
	}
}

func TestBounceWebhook(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
		answer     string // the status field of a 200, or the error code
		field      string // the error field
		source     string // the suppression's source, "" for none
	}{
		{"hard", `{"email":"Reader@Example.org","type":"hard","reason":"550 5.1.1 user unknown"}`, 200, "suppressed", "", "bounce"},
		{"complaint", `{"email":"reader@example.org","type":"complaint","reason":"abuse report"}`, 200, "suppressed", "", "complaint"},
		{"soft", `{"email":"reader@example.org","type":"soft","reason":"452 mailbox full"}`, 200, "recorded", "", ""},
		{"bad type", `{"email":"reader@example.org","type":"block"}`, 422, "invalid", "type", ""},
		{"no type", `{"email":"reader@example.org"}`, 422, "invalid", "type", ""},
		{"bad email", `{"email":"not an address","type":"hard"}`, 422, "invalid_email", "email", ""},
		{"malformed", `{"email":`, 400, "bad_request", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.editor("POST", "/v1/webhooks/bounces", tc.body)
			if tc.status != http.StatusOK {
				if got := wantJSONError(t, r, tc.status, tc.answer); got.Field != tc.field {
					t.Errorf("field = %q, want %q", got.Field, tc.field)
				}
			} else if r.Status != http.StatusOK || r.Body != `{"status":"`+tc.answer+`"}` {
				t.Errorf("answer %d %s, want 200 {\"status\":%q}", r.Status, r.Body, tc.answer)
			}
			wantSuppressedBy(t, e, tc.source)
		})
	}
}

// wantSuppressedBy checks that the list holds reader@example.org suppressed
// by source, or nothing when source is "".
func wantSuppressedBy(t *testing.T, e *env, source string) {
	t.Helper()
	got := e.suppressions("")
	switch {
	case source == "" && got.Total != 0:
		t.Errorf("suppressions = %q, want none", got.emails())
	case source != "" && (got.Total != 1 || !strings.EqualFold(got.Suppressions[0].Email, "reader@example.org") ||
		got.Suppressions[0].Source != source):
		t.Errorf("suppressions = %+v, want reader@example.org by %s", got.Suppressions, source)
	}
}

func TestBounceWebhookMediaType(t *testing.T) {
	e := newEnv(t)
	r := e.do("POST", "/v1/webhooks/bounces", strings.NewReader("email=reader@example.org&type=hard"),
		"Authorization", "Bearer "+editorToken, "Content-Type", "application/x-www-form-urlencoded")
	wantJSONError(t, r, http.StatusUnsupportedMediaType, "unsupported_media_type")
}

func TestSuppressionRoutesNeedToken(t *testing.T) {
	e := newEnv(t)
	e.suppress("reader@example.org", time.Now())
	for _, route := range [][2]string{
		{"GET", "/v1/suppressions"},
		{"DELETE", "/v1/suppressions/reader@example.org"},
		{"POST", "/v1/webhooks/bounces"},
	} {
		for _, auth := range []string{"", "Bearer wrong"} {
			r := e.do(route[0], route[1], strings.NewReader(`{"email":"x@example.org","type":"hard"}`),
				"Authorization", auth, "Content-Type", "application/json")
			wantJSONError(t, r, http.StatusUnauthorized, "unauthorized")
		}
	}
	if got := e.suppressions(""); !slices.Equal(got.emails(), []string{"reader@example.org"}) {
		t.Errorf("suppressions = %q, want reader@example.org untouched", got.emails())
	}
}

func TestSignupOfSuppressedAddress(t *testing.T) {
	e := newEnv(t)
	e.putNewsletter("daily", "Daily")
	if r := e.editor("POST", "/v1/webhooks/bounces", `{"email":"reader@example.org","type":"hard"}`); r.Status != http.StatusOK {
		t.Fatalf("bounce: %d %s", r.Status, r.Body)
	}
	suppressed := e.postJSON(`{"email":"Reader@example.org","newsletters":["daily"]}`)
	if n := e.pendingConfirmations(); n != 0 {
		t.Errorf("%d confirmation emails queued for a suppressed address, want 0", n)
	}
	other := e.postJSON(`{"email":"other@example.org","newsletters":["daily"]}`)
	if suppressed.Status != http.StatusAccepted || suppressed.Body != other.Body {
		t.Errorf("suppressed signup answered %d %s, another %d %s; want the same 202", suppressed.Status, suppressed.Body, other.Status, other.Body)
	}
	if n := e.pendingConfirmations(); n != 1 {
		t.Errorf("%d confirmation emails queued, want 1 for the other address", n)
	}
}
