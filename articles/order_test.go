package articles_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter/articles"
)

// TestEditorialOrder: lead articles first, then by position (1 first),
// then the rest; newest first within each.
func TestEditorialOrder(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2026, 12, 6, h, 0, 0, 0, time.UTC) }
	list := []articles.Article{
		{Title: "old", PublishedAt: at(1)},
		{Title: "second", PublishedAt: at(2), Position: 2},
		{Title: "new", PublishedAt: at(9)},
		{Title: "lead", PublishedAt: at(3), Lead: true},
		{Title: "first", PublishedAt: at(4), Position: 1},
		{Title: "newer lead", PublishedAt: at(5), Lead: true, Position: 7},
	}
	articles.EditorialOrder(list)
	var got []string
	for _, a := range list {
		got = append(got, a.Title)
	}
	want := []string{"newer lead", "lead", "first", "second", "new", "old"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("order (-want +got):\n%s", diff)
	}
}

// TestSelectInEditorialOrder: Select gives a newsletter's articles lead
// first, and keeps lead and position through the store.
func TestSelectInEditorialOrder(t *testing.T) {
	s, _ := mustStore(t)
	lead := article("https://news.example.org/lead", "Lead", t0.Add(-2*time.Hour))
	lead.Lead, lead.Position = true, 3
	mustUpsert(t, s, []articles.Article{article("https://news.example.org/new", "New", t0.Add(-time.Hour)), lead}, all...)
	got := mustSelectURLs(t, s, "daily", t0.Add(-24*time.Hour), t0, 10)
	if diff := cmp.Diff([]string{"https://news.example.org/lead", "https://news.example.org/new"}, got); diff != "" {
		t.Fatalf("Select (-want +got):\n%s", diff)
	}
	if a := mustGet(t, s, lead.URL); !a.Lead || a.Position != 3 {
		t.Errorf("stored lead %v, position %d; want true, 3", a.Lead, a.Position)
	}
}
