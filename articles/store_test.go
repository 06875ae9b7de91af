package articles_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/articles"
)

var all = []string{"daily", "weekly"}

func TestUpsertCounts(t *testing.T) {
	s, _ := mustStore(t)
	c, u := mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/a", "A", t0, "daily"),
		article("https://news.example.org/b", "B", t0, "daily"),
	}, all...)
	if c != 2 || u != 0 {
		t.Fatalf("first batch: created %d updated %d, want 2 0", c, u)
	}
	c, u = mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/b", "B, revised", t0, "daily"),
		article("https://news.example.org/c", "C", t0, "daily"),
	}, all...)
	if c != 1 || u != 1 {
		t.Fatalf("second batch: created %d updated %d, want 1 1", c, u)
	}
	if got := mustGet(t, s, "https://news.example.org/b").Title; got != "B, revised" {
		t.Fatalf("title = %q, want the revised one", got)
	}
}

func TestUpsertRepeatedURLInBatch(t *testing.T) {
	s, _ := mustStore(t)
	c, u := mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/a", "First", t0, "daily"),
		article("https://news.example.org/a", "Second", t0, "weekly"),
	}, all...)
	if c != 1 || u != 1 {
		t.Fatalf("created %d updated %d, want 1 1", c, u)
	}
	if got := mustSelectURLs(t, s, "daily", t0.Add(-time.Hour), t0, 10); len(got) != 0 {
		t.Fatalf("daily = %v, want nothing: the later entry moved it to weekly", got)
	}
	if got := mustGet(t, s, "https://news.example.org/a").Title; got != "Second" {
		t.Fatalf("title = %q, want Second", got)
	}
}

func TestUpsertAllOrNothing(t *testing.T) {
	s, rdb := mustStore(t)
	mustUpsert(t, s, []articles.Article{article("https://news.example.org/a", "A", t0, "daily")}, all...)
	before := mustKeys(t, rdb)

	_, _, err := s.Upsert(context.Background(), []articles.Article{
		article("https://news.example.org/a", "A, revised", t0, "weekly"),
		article("javascript:alert(1)", "Bad", t0),
		article("https://news.example.org/c", "C", t0),
	}, all)
	var e *newsletter.Error
	if !errors.As(err, &e) || e.Code != newsletter.EINVALIDARTICLE || e.Field != "articles[1].url" {
		t.Fatalf("Upsert = %v, want invalid_article on articles[1].url", err)
	}
	if diff := cmp.Diff(before, mustKeys(t, rdb)); diff != "" {
		t.Fatalf("keys changed (-before +after):\n%s", diff)
	}
	if a := mustGet(t, s, "https://news.example.org/a"); a.Title != "A" || !cmp.Equal(a.Newsletters, []string{"daily"}) {
		t.Fatalf("article a = %+v, want it untouched", a)
	}
}

func TestUpsertDefaultsToAllNewsletters(t *testing.T) {
	s, _ := mustStore(t)
	mustUpsert(t, s, []articles.Article{article("https://news.example.org/a", "A", t0)}, all...)
	if got := mustGet(t, s, "https://news.example.org/a").Newsletters; !cmp.Equal(got, all) {
		t.Fatalf("newsletters = %v, want %v", got, all)
	}
	for _, nl := range all {
		if got := mustSelectURLs(t, s, nl, t0.Add(-time.Hour), t0, 10); len(got) != 1 {
			t.Fatalf("Select(%s) = %v, want the article", nl, got)
		}
	}
}

func TestUpsertUnknownNewsletter(t *testing.T) {
	s, rdb := mustStore(t)
	_, _, err := s.Upsert(context.Background(), []articles.Article{
		article("https://news.example.org/a", "A", t0, "daily", "monthly"),
	}, all)
	var e *newsletter.Error
	if !errors.As(err, &e) || e.Code != newsletter.EINVALIDARTICLE || e.Field != "articles[0].newsletters" {
		t.Fatalf("Upsert = %v, want invalid_article on articles[0].newsletters", err)
	}
	if !strings.Contains(e.Message, `"monthly"`) {
		t.Fatalf("message %q does not name the newsletter", e.Message)
	}
	if keys := mustKeys(t, rdb); len(keys) != 0 {
		t.Fatalf("keys = %v, want none", keys)
	}
}

func TestUpsertMovesArticleBetweenNewsletters(t *testing.T) {
	s, _ := mustStore(t)
	url := "https://news.example.org/a"
	mustUpsert(t, s, []articles.Article{article(url, "A", t0, "daily")}, all...)
	mustUpsert(t, s, []articles.Article{article(url, "A", t0.Add(time.Minute), "weekly")}, all...)

	after, until := t0.Add(-time.Hour), t0.Add(time.Hour)
	if got := mustSelectURLs(t, s, "daily", after, until, 10); len(got) != 0 {
		t.Fatalf("daily = %v, want nothing", got)
	}
	if got := mustSelectURLs(t, s, "weekly", after, until, 10); !cmp.Equal(got, []string{url}) {
		t.Fatalf("weekly = %v, want [%s]", got, url)
	}
	// The score moved with the new publication time.
	if got := mustSelectURLs(t, s, "weekly", after, t0, 10); len(got) != 0 {
		t.Fatalf("weekly until t0 = %v, want nothing", got)
	}
}

func TestUpsertNormalizesHeaderInjection(t *testing.T) {
	s, _ := mustStore(t)
	a := article("https://news.example.org/a", "a\r\nBcc: x@y", t0)
	a.Author = "Ann\r\nBcc: x@y"
	a.ImageAlt = "A jar\r\nBcc: x@y"
	batch := []articles.Article{a}
	mustUpsert(t, s, batch, all...)
	got := mustGet(t, s, "https://news.example.org/a")
	if got.Title != "a Bcc: x@y" || got.Author != "Ann Bcc: x@y" || got.ImageAlt != "A jar Bcc: x@y" {
		t.Fatalf("title %q author %q image alt %q, want one line each", got.Title, got.Author, got.ImageAlt)
	}
	if batch[0].Title != "a\r\nBcc: x@y" {
		t.Fatalf("Upsert changed the caller's article: title %q", batch[0].Title)
	}
}

func TestGetRoundTrip(t *testing.T) {
	s, _ := mustStore(t)
	in := articles.Article{
		URL: "https://news.example.org/a", Title: "A", Summary: "Line one.\nLine two.",
		PublishedAt: t0.Add(123 * time.Millisecond), Author: "Ann", Section: "Science",
		ImageURL: "https://cdn.example.org/a.jpg", ImageAlt: "A jar on a shelf", Newsletters: []string{"weekly"},
	}
	mustUpsert(t, s, []articles.Article{in}, all...)
	in.ID = articles.IDOf(in.URL)
	if diff := cmp.Diff(&in, mustGet(t, s, in.URL)); diff != "" {
		t.Fatalf("Get (-want +got):\n%s", diff)
	}
	if got, err := s.ByID(context.Background(), in.ID); err != nil || got == nil || got.URL != in.URL {
		t.Fatalf("ByID(%s) = %v, %v; want the article", in.ID, got, err)
	}
	for _, id := range []string{"", "../x", strings.Repeat("0", 32), strings.ToUpper(in.ID)} {
		if got, err := s.ByID(context.Background(), id); got != nil || err != nil {
			t.Errorf("ByID(%q) = %v, %v; want nil, nil", id, got, err)
		}
	}
	if a, err := s.Get(context.Background(), "https://news.example.org/none"); a != nil || err != nil {
		t.Fatalf("Get(unknown) = %v, %v; want nil, nil", a, err)
	}
}

func TestSelect(t *testing.T) {
	s, _ := mustStore(t)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/0", "0", at(0), "daily"),
		article("https://news.example.org/2", "2", at(2), "daily"),
		article("https://news.example.org/1", "1", at(1), "daily", "weekly"),
		article("https://news.example.org/3", "3", at(3), "daily"),
		article("https://news.example.org/w", "w", at(2), "weekly"),
		article("https://news.example.org/ms", "ms", at(0).Add(time.Millisecond), "weekly"),
	}, all...)

	tests := []struct {
		name         string
		nl           string
		after, until time.Time
		limit        int
		want         []string
	}{
		{"newest first", "daily", at(-1), at(9), 10, []string{"/3", "/2", "/1", "/0"}},
		{"after exclusive, until inclusive", "daily", at(0), at(2), 10, []string{"/2", "/1"}},
		{"limit", "daily", at(-1), at(9), 2, []string{"/3", "/2"}},
		{"zero limit", "daily", at(-1), at(9), 0, []string{}},
		{"empty window", "daily", at(2), at(2), 10, []string{}},
		{"other newsletter", "weekly", at(-1), at(9), 10, []string{"/w", "/1", "/ms"}},
		{"one millisecond after", "weekly", at(0), at(1).Add(-time.Nanosecond), 10, []string{"/ms"}},
		{"unknown newsletter", "monthly", at(-1), at(9), 10, []string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := mustSelectURLs(t, s, tt.nl, tt.after, tt.until, tt.limit)
			for i := range got {
				got[i] = strings.TrimPrefix(got[i], "https://news.example.org")
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("Select (-want +got):\n%s", diff)
			}
		})
	}
}
