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

// wantCode checks that err is a newsletter error with code and field.
func wantCode(t *testing.T, err error, code, field string) {
	t.Helper()
	var e *newsletter.Error
	if !errors.As(err, &e) || e.Code != code || e.Field != field {
		t.Fatalf("error = %v, want %s on %q", err, code, field)
	}
}

func TestUpdate(t *testing.T) {
	s, _ := mustStore(t)
	ctx := context.Background()
	a := article("https://news.example.org/a", "A", t0, "daily")
	mustUpsert(t, s, []articles.Article{a}, all...)
	id := articles.IDOf(a.URL)

	edit := articles.Article{URL: a.URL, Title: "  A,\r\nrevised ", PublishedAt: t0.Add(time.Hour), ImageAlt: "A map",
		Lead: true, Position: 2, Newsletters: []string{"weekly"}}
	got, err := s.Update(ctx, id, edit, all)
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	want := &articles.Article{ID: id, URL: a.URL, Title: "A, revised", PublishedAt: t0.Add(time.Hour), ImageAlt: "A map",
		Lead: true, Position: 2, Newsletters: []string{"weekly"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Update (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, mustGet(t, s, a.URL)); diff != "" {
		t.Fatalf("stored (-want +got):\n%s", diff)
	}
	if l, _ := mustListURLs(t, s, articles.Query{Newsletter: "daily", Limit: 10}); len(l) != 0 {
		t.Fatalf("daily still lists %v", l)
	}
	if l, _ := mustListURLs(t, s, articles.Query{Newsletter: "weekly", From: t0.Add(time.Hour), Limit: 10}); !cmp.Equal(l, []string{"/a"}) {
		t.Fatalf("weekly from the new time = %v, want /a", l)
	}

	// No newsletters named: it stays where it is, not filed into all.
	edit.Newsletters = nil
	if got, err := s.Update(ctx, id, edit, all); err != nil || !cmp.Equal(got.Newsletters, []string{"weekly"}) {
		t.Fatalf("Update without newsletters = %+v, %v; want weekly still", got, err)
	}
	if l, _ := mustListURLs(t, s, articles.Query{Newsletter: "daily", Limit: 10}); len(l) != 0 {
		t.Fatalf("daily lists %v after an edit that named no newsletters", l)
	}
}

func TestUpdateChangesURL(t *testing.T) {
	s, rdb := mustStore(t)
	ctx := context.Background()
	mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/a", "A", t0, "daily"),
		article("https://news.example.org/b", "B", t0, "daily"),
	}, all...)
	id := articles.IDOf("https://news.example.org/a")

	_, err := s.Update(ctx, id, article("https://news.example.org/b", "A", t0, "daily"), all)
	wantCode(t, err, newsletter.ECONFLICT, "url")
	if a := mustGet(t, s, "https://news.example.org/b"); a.Title != "B" {
		t.Fatalf("the other article changed: %+v", a)
	}

	got, err := s.Update(ctx, id, article("https://news.example.org/a2", "A", t0, "daily"), all)
	if err != nil || got.ID != articles.IDOf("https://news.example.org/a2") {
		t.Fatalf("Update to a new URL = %+v, %v; want the new id", got, err)
	}
	if old, err := s.ByID(ctx, id); old != nil || err != nil {
		t.Fatalf("old id still answers %+v, %v", old, err)
	}
	if l, total := mustListURLs(t, s, articles.Query{Newsletter: "daily", Limit: 10}); total != 2 || !cmp.Equal(l, []string{"/b", "/a2"}) && !cmp.Equal(l, []string{"/a2", "/b"}) {
		t.Fatalf("daily = %v (%d), want /a2 and /b", l, total)
	}
	if n, _ := rdb.ZCard(ctx, "nl:{nl}:articles").Result(); n != 2 {
		t.Fatalf("index holds %d, want 2", n)
	}
}

func TestUpdateRefuses(t *testing.T) {
	s, rdb := mustStore(t)
	ctx := context.Background()
	a := article("https://news.example.org/a", "A", t0, "daily")
	mustUpsert(t, s, []articles.Article{a}, all...)
	id := articles.IDOf(a.URL)
	before := mustKeys(t, rdb)

	for _, tt := range []struct {
		name        string
		id          string
		a           articles.Article
		code, field string
	}{
		{"unknown id", strings.Repeat("0", 32), a, newsletter.ENOTFOUND, ""},
		{"not an id", "../x", a, newsletter.ENOTFOUND, ""},
		{"bad URL", id, article("javascript:alert(1)", "A", t0), newsletter.EINVALIDARTICLE, "url"},
		{"no title", id, article(a.URL, " ", t0), newsletter.EINVALIDARTICLE, "title"},
		{"no time", id, article(a.URL, "A", time.Time{}), newsletter.EINVALIDARTICLE, "published_at"},
		{"unknown newsletter", id, article(a.URL, "A", t0, "monthly"), newsletter.EINVALIDARTICLE, "newsletters"},
		{"bad position", id, articles.Article{URL: a.URL, Title: "A", PublishedAt: t0, Position: -1}, newsletter.EINVALIDARTICLE, "position"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.Update(ctx, tt.id, tt.a, all)
			wantCode(t, err, tt.code, tt.field)
		})
	}
	if diff := cmp.Diff(before, mustKeys(t, rdb)); diff != "" {
		t.Fatalf("keys changed (-before +after):\n%s", diff)
	}
	if got := mustGet(t, s, a.URL); got.Title != "A" {
		t.Fatalf("article changed: %+v", got)
	}
}

func TestDelete(t *testing.T) {
	s, rdb := mustStore(t)
	ctx := context.Background()
	mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/a", "A", t0, "daily", "weekly"),
		article("https://news.example.org/b", "B", t0, "daily"),
	}, all...)
	id := articles.IDOf("https://news.example.org/a")
	if err := s.Delete(ctx, id); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if a, err := s.ByID(ctx, id); a != nil || err != nil {
		t.Fatalf("ByID after Delete = %+v, %v", a, err)
	}
	for _, q := range []articles.Query{{Limit: 10}, {Newsletter: "daily", Limit: 10}} {
		if l, total := mustListURLs(t, s, q); !cmp.Equal(l, []string{"/b"}) || total != 1 {
			t.Fatalf("List(%+v) = %v (%d), want /b", q, l, total)
		}
	}
	if got := mustSelectURLs(t, s, "weekly", t0.Add(-time.Hour), t0, 10); len(got) != 0 {
		t.Fatalf("weekly still selects %v", got)
	}
	for _, key := range mustKeys(t, rdb) {
		if strings.Contains(key, id) || key == "nl:{nl}:articles:weekly" {
			t.Errorf("key %s left behind", key)
		}
	}
	wantCode(t, s.Delete(ctx, id), newsletter.ENOTFOUND, "")
	wantCode(t, s.Delete(ctx, "nope"), newsletter.ENOTFOUND, "")
}

// TestFeedsDoNotBringBackDeletedArticles: an article an editor deleted,
// or whose URL an editor changed, stays away when its feed still carries
// it; an editor adding its URL again brings it back.
func TestFeedsDoNotBringBackDeletedArticles(t *testing.T) {
	ctx := context.Background()
	p, s, _ := mustPoller(t, t0.Add(24*time.Hour))
	fs := newFeedServer(t, false,
		feedItem{Link: "https://news.example.org/1", Title: "One", Published: t0},
		feedItem{Link: "https://news.example.org/2", Title: "Two", Published: t0.Add(time.Hour)},
		feedItem{Link: "https://news.example.org/3", Title: "Three", Published: t0.Add(2 * time.Hour)},
	)
	daily := []string{"daily"}
	if added, err := p.Poll(ctx, fs.URL, daily); err != nil || added != 3 {
		t.Fatalf("first Poll = %d, %v; want 3", added, err)
	}
	if err := s.Delete(ctx, articles.IDOf("https://news.example.org/1")); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ctx, articles.IDOf("https://news.example.org/2"),
		article("https://news.example.org/2-fixed", "Two", t0.Add(time.Hour), "daily"), all); err != nil {
		t.Fatal(err)
	}
	fs.update(func(fs *feedServer) { fs.etag = `"v2"` })
	if added, err := p.Poll(ctx, fs.URL, daily); err != nil || added != 0 {
		t.Fatalf("Poll after the edits = %d, %v; want 0", added, err)
	}
	if l, _ := mustListURLs(t, s, articles.Query{Limit: 10}); !cmp.Equal(l, []string{"/3", "/2-fixed"}) {
		t.Fatalf("list = %v, want /3 and /2-fixed only", l)
	}

	mustUpsert(t, s, []articles.Article{article("https://news.example.org/1", "One, again", t0, "daily")}, all...)
	if err := s.Delete(ctx, articles.IDOf("https://news.example.org/1")); err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, []articles.Article{article("https://news.example.org/1", "One, back", t0, "daily")}, all...)
	if err := s.Delete(ctx, articles.IDOf("https://news.example.org/3")); err != nil {
		t.Fatal(err)
	}
	fs.update(func(fs *feedServer) { fs.etag = `"v3"` })
	if added, err := p.Poll(ctx, fs.URL, daily); err != nil || added != 0 {
		t.Fatalf("third Poll = %d, %v; want 0", added, err)
	}
	if l, _ := mustListURLs(t, s, articles.Query{Limit: 10}); !cmp.Equal(l, []string{"/2-fixed", "/1"}) {
		t.Fatalf("list = %v, want /2-fixed and the editor's /1", l)
	}
	if got := mustGet(t, s, "https://news.example.org/1").Title; got != "One, back" {
		t.Fatalf("title = %q, want the editor's", got)
	}
}
