package api_test

import (
	"encoding/json"
	"net/http"
	"testing"

	"newsletter/digests"
)

// TestDigestHistory: GET /v1/newsletters/{id}/digests pages through a
// newsletter's digests newest first, each with its counts and reports;
// an unknown newsletter is 404, a bad limit 400, and it needs the token.
func TestDigestHistory(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "ann@example.org")
	var ids []string
	for i, url := range []string{"https://news.example/a", "https://news.example/b", "https://news.example/c"} {
		e.addArticle(url, "Story "+string(rune('A'+i)))
		ids = append(ids, digestID(t, e.editor("POST", "/v1/newsletters/daily/digests", `{"subject":"Issue `+string(rune('1'+i))+`","since":"2020-01-01T00:00:00Z"}`)))
	}
	var page struct {
		Digests []struct {
			ID      string          `json:"id"`
			Subject string          `json:"subject"`
			Counts  json.RawMessage `json:"counts"`
			Reports *struct {
				Unsubscribes int `json:"unsubscribes"`
			} `json:"reports"`
		} `json:"digests"`
		Total, Offset, Limit int
	}
	r := e.editor("GET", "/v1/newsletters/daily/digests?limit=2", "")
	if err := json.Unmarshal([]byte(r.Body), &page); r.Status != http.StatusOK || err != nil {
		t.Fatalf("history = %d %s", r.Status, r.Body)
	}
	if page.Total != 3 || len(page.Digests) != 2 || page.Digests[0].ID != ids[2] || page.Digests[1].ID != ids[1] ||
		page.Digests[0].Reports == nil || len(page.Digests[0].Counts) == 0 {
		t.Fatalf("first page: %+v; want the two newest of 3, with counts and reports", page)
	}
	r = e.editor("GET", "/v1/newsletters/daily/digests?offset=2&limit=2", "")
	if err := json.Unmarshal([]byte(r.Body), &page); err != nil || len(page.Digests) != 1 || page.Digests[0].ID != ids[0] {
		t.Fatalf("second page: %s", r.Body)
	}
	wantJSONError(t, e.editor("GET", "/v1/newsletters/nope/digests", ""), http.StatusNotFound, "not_found")
	wantJSONError(t, e.editor("GET", "/v1/newsletters/daily/digests?limit=1000", ""), http.StatusBadRequest, "bad_request")
	if r := e.do("GET", "/v1/newsletters/daily/digests", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("without the token = %d", r.Status)
	}
}
