package articles_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/articles"
	"newsletter/internal/redistest"
)

// mustListURLs returns the paths of the URLs that List returns, in order,
// and the total it reports.
func mustListURLs(tb testing.TB, s *articles.Store, q articles.Query) ([]string, int64) {
	tb.Helper()
	list, total, err := s.List(context.Background(), q)
	if err != nil {
		tb.Fatalf("List(%+v): %v", q, err)
	}
	paths := []string{}
	for _, a := range list {
		if a.ID != articles.IDOf(a.URL) {
			tb.Errorf("article %s has id %q, want %q", a.URL, a.ID, articles.IDOf(a.URL))
		}
		paths = append(paths, strings.TrimPrefix(a.URL, "https://news.example.org"))
	}
	return paths, total
}

func TestList(t *testing.T) {
	s, _ := mustStore(t)
	at := func(h int) time.Time { return t0.Add(time.Duration(h) * time.Hour) }
	mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/0", "0", at(0), "daily"),
		article("https://news.example.org/2", "2", at(2), "daily"),
		article("https://news.example.org/1", "1", at(1), "daily", "weekly"),
		article("https://news.example.org/3", "3", at(3), "daily"),
		article("https://news.example.org/w", "w", at(4), "weekly"),
	}, all...)

	tests := []struct {
		name  string
		q     articles.Query
		want  []string
		total int64
	}{
		{"every article, newest first", articles.Query{Limit: 10}, []string{"/w", "/3", "/2", "/1", "/0"}, 5},
		{"a page", articles.Query{Offset: 1, Limit: 2}, []string{"/3", "/2"}, 5},
		{"past the end", articles.Query{Offset: 5, Limit: 2}, []string{}, 5},
		{"no limit", articles.Query{}, []string{}, 5},
		{"one newsletter", articles.Query{Newsletter: "weekly", Limit: 10}, []string{"/w", "/1"}, 2},
		{"from and to included", articles.Query{From: at(1), To: at(3), Limit: 10}, []string{"/3", "/2", "/1"}, 3},
		{"from only", articles.Query{From: at(3), Limit: 10}, []string{"/w", "/3"}, 2},
		{"to only, in a newsletter", articles.Query{Newsletter: "daily", To: at(1), Limit: 10}, []string{"/1", "/0"}, 2},
		{"from inside a millisecond", articles.Query{From: at(1).Add(-time.Nanosecond), To: at(1).Add(time.Nanosecond), Limit: 10}, []string{"/1"}, 1},
		{"unknown newsletter", articles.Query{Newsletter: "monthly", Limit: 10}, []string{}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, total := mustListURLs(t, s, tt.q)
			if diff := cmp.Diff(tt.want, got); diff != "" || total != tt.total {
				t.Fatalf("List: total %d, want %d; (-want +got):\n%s", total, tt.total, diff)
			}
		})
	}

	_, _, err := s.List(context.Background(), articles.Query{From: at(2), To: at(1), Limit: 10})
	var e *newsletter.Error
	if !errors.As(err, &e) || e.Code != newsletter.EINVALID || e.Field != "from" {
		t.Fatalf("List(from after to) = %v, want invalid on from", err)
	}
}

// TestListFollowsEdits: a moved publication time moves the article in the
// list, and an article moved out of a newsletter leaves its filtered list.
func TestListFollowsEdits(t *testing.T) {
	s, _ := mustStore(t)
	mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/a", "A", t0, "daily"),
		article("https://news.example.org/b", "B", t0.Add(time.Hour), "daily"),
	}, all...)
	mustUpsert(t, s, []articles.Article{article("https://news.example.org/a", "A", t0.Add(2*time.Hour), "weekly")}, all...)
	if got, total := mustListURLs(t, s, articles.Query{Limit: 10}); !cmp.Equal(got, []string{"/a", "/b"}) || total != 2 {
		t.Fatalf("List = %v (%d), want /a moved first, 2 in all", got, total)
	}
	if got, _ := mustListURLs(t, s, articles.Query{Newsletter: "daily", Limit: 10}); !cmp.Equal(got, []string{"/b"}) {
		t.Fatalf("daily = %v, want /b only", got)
	}
}

// TestIndexExisting: articles stored before the index of all articles
// existed (their article keys and newsletter sorted sets only) are listed
// once IndexExisting has run, together with those stored since; it runs
// once.
func TestIndexExisting(t *testing.T) {
	s, rdb := mustStore(t)
	ctx := context.Background()
	mustUpsert(t, s, []articles.Article{
		article("https://news.example.org/old-daily", "Old daily", t0, "daily"),
		article("https://news.example.org/old-both", "Old both", t0.Add(time.Hour), "daily", "weekly"),
		article("https://news.example.org/old-weekly", "Old weekly", t0.Add(2*time.Hour), "weekly"),
	}, all...)
	// Make them look as an older version stored them: no index, no mark.
	if err := rdb.Del(ctx, "nl:{nl}:articles", "nl:{nl}:articles-indexed").Err(); err != nil {
		t.Fatal(err)
	}
	mustUpsert(t, s, []articles.Article{article("https://news.example.org/new", "New", t0.Add(-time.Hour), "weekly")}, all...)
	if got, _ := mustListURLs(t, s, articles.Query{Limit: 10}); !cmp.Equal(got, []string{"/new"}) {
		t.Fatalf("before IndexExisting = %v, want only the new one", got)
	}

	if added, err := s.IndexExisting(ctx, all); err != nil || !added {
		t.Fatalf("IndexExisting = %v, %v; want true, nil", added, err)
	}
	want := []string{"/old-weekly", "/old-both", "/old-daily", "/new"}
	if got, total := mustListURLs(t, s, articles.Query{Limit: 10}); !cmp.Equal(got, want) || total != 4 {
		t.Fatalf("after IndexExisting = %v (%d), want %v", got, total, want)
	}
	// Another process (a new Store) finds the mark and changes nothing.
	if added, err := articles.NewStore(rdb).IndexExisting(ctx, all); err != nil || added {
		t.Fatalf("IndexExisting again = %v, %v; want false, nil", added, err)
	}
	score, err := rdb.ZScore(ctx, "nl:{nl}:articles", articles.IDOf("https://news.example.org/old-both")).Result()
	if err != nil || int64(score) != t0.Add(time.Hour).UnixMilli() {
		t.Fatalf("index score = %v, %v; want the publication time in ms", score, err)
	}
}

// TestIndexExistingOnEmptyStore: a new database is marked as indexed and
// lists nothing.
func TestIndexExistingOnEmptyStore(t *testing.T) {
	s, rdb := mustStore(t)
	if _, err := s.IndexExisting(context.Background(), all); err != nil {
		t.Fatal(err)
	}
	// The embedded Redis keeps the empty union's key, which Redis deletes.
	if got := mustKeys(t, rdb); redistest.Real() && !cmp.Equal(got, []string{"nl:{nl}:articles-indexed"}) {
		t.Fatalf("keys = %v, want only the mark", got)
	}
	if _, err := rdb.Get(context.Background(), "nl:{nl}:articles-indexed").Result(); errors.Is(err, redis.Nil) {
		t.Fatal("no mark")
	}
}
