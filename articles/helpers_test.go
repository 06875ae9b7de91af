package articles_test

import (
	"context"
	"sort"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
	"newsletter/internal/redistest"
)

// t0 is the time the tests' articles are published around.
var t0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// mustStore returns a Store on a flushed test database, and the client
// under it.
func mustStore(tb testing.TB) (*articles.Store, *redis.Client) {
	tb.Helper()
	rdb := redistest.Client(tb)
	return articles.NewStore(rdb), rdb
}

// mustKeys returns every key in the test database, sorted.
func mustKeys(tb testing.TB, rdb *redis.Client) []string {
	tb.Helper()
	var keys []string
	iter := rdb.Scan(context.Background(), 0, "*", 100).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatalf("scan: %v", err)
	}
	sort.Strings(keys)
	return keys
}

// mustUpsert stores batch and fails the test on error.
func mustUpsert(tb testing.TB, s *articles.Store, batch []articles.Article, all ...string) (created, updated int) {
	tb.Helper()
	created, updated, err := s.Upsert(context.Background(), batch, all)
	if err != nil {
		tb.Fatalf("Upsert: %v", err)
	}
	return created, updated
}

// mustGet returns the stored article with url, failing the test when there
// is none.
func mustGet(tb testing.TB, s *articles.Store, url string) *articles.Article {
	tb.Helper()
	a, err := s.Get(context.Background(), url)
	if err != nil {
		tb.Fatalf("Get(%q): %v", url, err)
	}
	if a == nil {
		tb.Fatalf("Get(%q) = nil, want an article", url)
	}
	return a
}

// mustSelectURLs returns the URLs that Select returns, in order.
func mustSelectURLs(tb testing.TB, s *articles.Store, nl string, after, until time.Time, limit int) []string {
	tb.Helper()
	list, err := s.Select(context.Background(), nl, after, until, limit)
	if err != nil {
		tb.Fatalf("Select(%q): %v", nl, err)
	}
	urls := []string{}
	for _, a := range list {
		urls = append(urls, a.URL)
	}
	return urls
}

// article returns a valid article published at t in the given newsletters.
func article(url, title string, t time.Time, newsletters ...string) articles.Article {
	return articles.Article{URL: url, Title: title, PublishedAt: t, Newsletters: newsletters}
}
