package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"newsletter/articles"
)

// articleList is the answer of GET /v1/articles.
type articleList struct {
	Articles []articles.Article `json:"articles"`
	Total    int                `json:"total"`
	Offset   int                `json:"offset"`
	Limit    int                `json:"limit"`
}

// postArticles posts a batch of articles as JSON and wants 200.
func (e *env) postArticles(batch string) {
	e.t.Helper()
	if r := e.editor("POST", "/v1/articles", `{"articles":[`+batch+`]}`); r.Status != http.StatusOK {
		e.t.Fatalf("POST /v1/articles = %d %s", r.Status, r.Body)
	}
}

// listArticles gets GET /v1/articles with query and wants 200.
func (e *env) listArticles(query string) articleList {
	e.t.Helper()
	r := e.editor("GET", "/v1/articles"+query, "")
	var l articleList
	if err := json.Unmarshal([]byte(r.Body), &l); r.Status != http.StatusOK || err != nil {
		e.t.Fatalf("GET /v1/articles%s = %d %s", query, r.Status, r.Body)
	}
	return l
}

// pathsOf returns the paths of the listed articles' URLs, checking that
// each carries its id.
func pathsOf(t *testing.T, l articleList) []string {
	t.Helper()
	paths := []string{}
	for _, a := range l.Articles {
		if a.ID != articles.IDOf(a.URL) {
			t.Errorf("article %s has id %q, want %q", a.URL, a.ID, articles.IDOf(a.URL))
		}
		paths = append(paths, strings.TrimPrefix(a.URL, "https://news.example"))
	}
	return paths
}

// newArticlesEnv is a server with two newsletters and five articles:
// /1 to /4 an hour apart from 2026-11-01T01:00Z, /w at 05:00, in weekly
// only, /2 in both.
func newArticlesEnv(t *testing.T) *env {
	t.Helper()
	e, _ := newAdminEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.putNewsletter("weekly", "Weekly")
	e.postArticles(`{"url":"https://news.example/1","title":"One","published_at":"2026-11-01T01:00:00Z","newsletters":["daily"]},
		{"url":"https://news.example/2","title":"Two","published_at":"2026-11-01T02:00:00Z"},
		{"url":"https://news.example/3","title":"Three","published_at":"2026-11-01T03:00:00Z","newsletters":["daily"]},
		{"url":"https://news.example/4","title":"Four","published_at":"2026-11-01T04:00:00Z","newsletters":["daily"]},
		{"url":"https://news.example/w","title":"Weekly","published_at":"2026-11-01T05:00:00Z","newsletters":["weekly"]}`)
	return e
}

// TestListArticles: GET /v1/articles pages through the articles newest
// published first, filters by newsletter and publication time, and
// refuses bad parameters naming them.
func TestListArticles(t *testing.T) {
	e := newArticlesEnv(t)
	for _, tt := range []struct {
		query                string
		want                 []string
		total, offset, limit int
	}{
		{"", []string{"/w", "/4", "/3", "/2", "/1"}, 5, 0, 20},
		{"?limit=2", []string{"/w", "/4"}, 5, 0, 2},
		{"?limit=2&offset=2", []string{"/3", "/2"}, 5, 2, 2},
		{"?limit=2&offset=4", []string{"/1"}, 5, 4, 2},
		{"?offset=9", []string{}, 5, 9, 20},
		{"?newsletter=weekly", []string{"/w", "/2"}, 2, 0, 20},
		{"?newsletter=daily&limit=1&offset=1", []string{"/3"}, 4, 1, 1},
		{"?from=2026-11-01T02:00:00Z&to=2026-11-01T04:00:00Z", []string{"/4", "/3", "/2"}, 3, 0, 20},
		{"?from=2026-11-01T04:00:00%2B01:00", []string{"/w", "/4", "/3"}, 3, 0, 20},
		{"?to=2026-11-01T01:30:00Z&newsletter=daily", []string{"/1"}, 1, 0, 20},
	} {
		t.Run(tt.query, func(t *testing.T) {
			l := e.listArticles(tt.query)
			got := pathsOf(t, l)
			if strings.Join(got, " ") != strings.Join(tt.want, " ") || l.Total != tt.total || l.Offset != tt.offset || l.Limit != tt.limit {
				t.Fatalf("list = %v total %d offset %d limit %d; want %v total %d offset %d limit %d",
					got, l.Total, l.Offset, l.Limit, tt.want, tt.total, tt.offset, tt.limit)
			}
		})
	}
	wantDocumented(t, "GET", "/v1/articles", e.editor("GET", "/v1/articles?limit=100", "").Body)
	if r := e.editor("GET", "/v1/articles?offset=9", ""); !strings.Contains(r.Body, `"articles":[]`) {
		t.Fatalf("past the end = %s, want an empty list, not null", r.Body)
	}
	first := e.listArticles("?limit=1").Articles[0]
	if first.Title != "Weekly" || first.PublishedAt.Format("2006-01-02T15:04Z07:00") != "2026-11-01T05:00Z" ||
		len(first.Newsletters) != 1 || first.Newsletters[0] != "weekly" {
		t.Fatalf("first article = %+v, want Weekly with its fields", first)
	}

	for _, tt := range []struct {
		query       string
		status      int
		code, field string
	}{
		{"?from=yesterday", http.StatusUnprocessableEntity, "invalid", "from"},
		{"?to=2026-13-01T00:00:00Z", http.StatusUnprocessableEntity, "invalid", "to"},
		{"?from=2026-11-02T00:00:00Z&to=2026-11-01T00:00:00Z", http.StatusUnprocessableEntity, "invalid", "from"},
		{"?newsletter=monthly", http.StatusUnprocessableEntity, "unknown_newsletter", "newsletter"},
		{"?limit=101", http.StatusBadRequest, "bad_request", "limit"},
		{"?limit=0", http.StatusBadRequest, "bad_request", "limit"},
		{"?offset=-1", http.StatusBadRequest, "bad_request", "offset"},
	} {
		t.Run(tt.query, func(t *testing.T) {
			if e := wantJSONError(t, e.editor("GET", "/v1/articles"+tt.query, ""), tt.status, tt.code); e.Field != tt.field {
				t.Fatalf("field = %q, want %q", e.Field, tt.field)
			}
		})
	}
	if r := e.do("GET", "/v1/articles", nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("without the token = %d, want 401", r.Status)
	}
}

// TestListArticlesStoredBeforeTheIndex: articles stored by a version
// without the index of all articles are listed too.
func TestListArticlesStoredBeforeTheIndex(t *testing.T) {
	e := newArticlesEnv(t)
	if err := e.rdb.Del(t.Context(), "nl:{nl}:articles", "nl:{nl}:articles-indexed").Err(); err != nil {
		t.Fatal(err)
	}
	if got := pathsOf(t, e.listArticles("")); strings.Join(got, " ") != "/w /4 /3 /2 /1" {
		t.Fatalf("list = %v, want every article", got)
	}
}
