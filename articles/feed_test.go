package articles_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter/articles"
)

// formats runs test once for an RSS 2.0 feed and once for an Atom feed.
func formats(t *testing.T, test func(t *testing.T, atom bool)) {
	t.Run("rss", func(t *testing.T) { test(t, false) })
	t.Run("atom", func(t *testing.T) { test(t, true) })
}

func TestPoll(t *testing.T) { formats(t, testPoll) }

func testPoll(t *testing.T, atom bool) {
	ctx := context.Background()
	now := t0.Add(24 * time.Hour)
	p, s, _ := mustPoller(t, now)
	fs := newFeedServer(t, atom,
		feedItem{Link: "https://news.example.org/1", Title: "One", Author: "Ann", Category: "Science",
			Description: `<p>Hello <b>world</b> &amp; <script>alert("x")</script>friends&nbsp;&lt;3</p><br>Bye`,
			Image:       "https://cdn.example.org/1.jpg", Published: t0},
		feedItem{Link: "https://news.example.org/2", Title: "Two", Published: t0.Add(time.Hour)},
		feedItem{Link: "https://news.example.org/3", Title: "Three", Published: t0.Add(2 * time.Hour)},
		feedItem{Title: "No link", Published: t0},
		feedItem{Link: "javascript:alert(1)", Title: "Script", Published: t0},
		feedItem{Link: "data:text/html,hi", Title: "Data", Published: t0},
	)
	fs.update(func(fs *feedServer) { fs.etag, fs.lastModified = `"v1"`, "Fri, 14 Mar 2025 09:00:00 GMT" })
	daily := []string{"daily"}

	if added, err := p.Poll(ctx, fs.URL, daily); err != nil || added != 3 {
		t.Fatalf("first Poll = %d, %v; want 3, nil", added, err)
	}
	h := fs.lastRequest(t)
	if ua, inm := h.Get("User-Agent"), h.Get("If-None-Match"); ua != articles.UserAgent || inm != "" {
		t.Fatalf("first request: User-Agent %q If-None-Match %q; want %q and none", ua, inm, articles.UserAgent)
	}
	want := &articles.Article{ID: articles.IDOf("https://news.example.org/1"), URL: "https://news.example.org/1", Title: "One",
		Summary: "Hello world & friends <3 Bye", PublishedAt: t0, Author: "Ann", Section: "Science",
		ImageURL: "https://cdn.example.org/1.jpg", Newsletters: daily}
	if diff := cmp.Diff(want, mustGet(t, s, want.URL)); diff != "" {
		t.Fatalf("article 1 (-want +got):\n%s", diff)
	}
	if got := mustSelectURLs(t, s, "daily", t0.Add(-time.Hour), now, 10); len(got) != 3 {
		t.Fatalf("daily = %v, want the 3 items with web links", got)
	}

	// Unchanged feed: the server sees the validators and answers 304.
	if added, err := p.Poll(ctx, fs.URL, daily); err != nil || added != 0 {
		t.Fatalf("second Poll = %d, %v; want 0, nil", added, err)
	}
	h = fs.lastRequest(t)
	if inm, ims := h.Get("If-None-Match"), h.Get("If-Modified-Since"); inm != `"v1"` || ims != "Fri, 14 Mar 2025 09:00:00 GMT" {
		t.Fatalf("second request: If-None-Match %q If-Modified-Since %q", inm, ims)
	}
	if _, n := fs.counts(); n != 1 {
		t.Fatalf("304 answers = %d, want 1", n)
	}

	// An editor revises a known article; the feed grows by one item.
	edited := article("https://news.example.org/2", "Two, edited", t0.Add(time.Hour), "daily")
	mustUpsert(t, s, []articles.Article{edited}, "daily")
	fs.update(func(fs *feedServer) {
		fs.items = append(fs.items, feedItem{Link: "https://news.example.org/4", Title: "Four", Published: t0.Add(3 * time.Hour)})
		fs.etag = `"v2"`
	})
	if added, err := p.Poll(ctx, fs.URL, daily); err != nil || added != 1 {
		t.Fatalf("third Poll = %d, %v; want 1, nil", added, err)
	}
	if got := mustGet(t, s, "https://news.example.org/4").Title; got != "Four" {
		t.Fatalf("new item title = %q, want Four", got)
	}
	if got := mustGet(t, s, edited.URL).Title; got != edited.Title {
		t.Fatalf("known item title = %q, want the editor's %q left alone", got, edited.Title)
	}
	if added, err := p.Poll(ctx, fs.URL, daily); err != nil || added != 0 {
		t.Fatalf("fourth Poll = %d, %v; want 0, nil", added, err)
	}
	if reqs, n := fs.counts(); reqs != 4 || n != 2 {
		t.Fatalf("requests %d, 304 answers %d; want 4, 2", reqs, n)
	}
}

func TestPollFailureStoresNothing(t *testing.T) {
	tests := []struct {
		name   string
		status int
		body   string
	}{
		{"500", 500, ""},
		{"404", 404, ""},
		{"not a feed", 0, "<html><body>Moved to a new home!</body></html>"},
		{"plain text", 0, "hello"},
		{"truncated rss", 0, `<?xml version="1.0"?><rss version="2.0"><channel><item><title>Cut <link>https://news.example.org/x</link`},
		{"garbage", 0, "<rss version=\"2.0\"><channel><item>\x00\x01<<>>&&;</item></channel></rss"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, _, rdb := mustPoller(t, t0)
			fs := newFeedServer(t, false, feedItem{Link: "https://news.example.org/1", Title: "One", Published: t0})
			fs.update(func(fs *feedServer) { fs.etag, fs.status, fs.body = `"v1"`, tt.status, tt.body })
			added, err := p.Poll(context.Background(), fs.URL, []string{"daily"})
			if err == nil || added != 0 {
				t.Fatalf("Poll = %d, %v; want 0 and an error", added, err)
			}
			if keys := mustKeys(t, rdb); len(keys) != 0 {
				t.Fatalf("keys = %v, want none", keys)
			}
		})
	}
}

func TestPollOversizedFeed(t *testing.T) {
	p, _, rdb := mustPoller(t, t0)
	fs := newFeedServer(t, false)
	fs.update(func(fs *feedServer) {
		fs.body = `<?xml version="1.0"?><rss version="2.0"><channel><title>` +
			strings.Repeat("x", articles.MaxFeedSize) + `</title></channel></rss>`
	})
	if _, err := p.Poll(context.Background(), fs.URL, []string{"daily"}); err == nil || !strings.Contains(err.Error(), "larger") {
		t.Fatalf("Poll = %v, want an error about size", err)
	}
	if keys := mustKeys(t, rdb); len(keys) != 0 {
		t.Fatalf("keys = %v, want none", keys)
	}
}

func TestPollRefusesBadArguments(t *testing.T) {
	p, _, _ := mustPoller(t, t0)
	for _, tc := range []struct {
		url string
		nls []string
	}{
		{"file:///etc/passwd", []string{"daily"}},
		{"ftp://news.example.org/feed", []string{"daily"}},
		{"https://news.example.org/feed", []string{"Daily"}},
	} {
		if _, err := p.Poll(context.Background(), tc.url, tc.nls); err == nil {
			t.Fatalf("Poll(%q, %v) = nil error, want one", tc.url, tc.nls)
		}
	}
}

func TestPollHeaderInjection(t *testing.T) { formats(t, testPollHeaderInjection) }

func testPollHeaderInjection(t *testing.T, atom bool) {
	p, s, _ := mustPoller(t, t0)
	fs := newFeedServer(t, atom, feedItem{Link: "https://news.example.org/1",
		Title: "Breaking\r\nBcc: x@y", Author: "Ann\r\nX-Mailer: evil", Category: "News\nX-Evil: 1",
		Published: t0})
	if added, err := p.Poll(context.Background(), fs.URL, []string{"daily"}); err != nil || added != 1 {
		t.Fatalf("Poll = %d, %v; want 1, nil", added, err)
	}
	a := mustGet(t, s, "https://news.example.org/1")
	if a.Title != "Breaking Bcc: x@y" || a.Author != "Ann X-Mailer: evil" || a.Section != "News X-Evil: 1" {
		t.Fatalf("title %q author %q section %q, want each on one line", a.Title, a.Author, a.Section)
	}
}

func TestPollItemDefaults(t *testing.T) {
	now := t0.Add(90 * time.Minute)
	p, s, _ := mustPoller(t, now)
	fs := newFeedServer(t, false,
		feedItem{Link: "/2025/relative", Title: "Relative", Published: t0},
		feedItem{Link: "https://news.example.org/undated", Title: "Undated", Image: "javascript:alert(1)"},
		feedItem{Link: "https://news.example.org/untitled", Published: t0},
		feedItem{Link: "https://news.example.org/dup", Title: "Dup 1", Published: t0},
		feedItem{Link: "https://news.example.org/dup", Title: "Dup 2", Published: t0},
	)
	if added, err := p.Poll(context.Background(), fs.URL, []string{"daily", "weekly", "daily"}); err != nil || added != 3 {
		t.Fatalf("Poll = %d, %v; want 3, nil", added, err)
	}
	if a := mustGet(t, s, fs.URL+"/2025/relative"); a.Title != "Relative" {
		t.Fatalf("relative link: %+v", a)
	}
	a := mustGet(t, s, "https://news.example.org/undated")
	if !a.PublishedAt.Equal(now) || a.ImageURL != "" || !cmp.Equal(a.Newsletters, []string{"daily", "weekly"}) {
		t.Fatalf("undated item: published %v image %q newsletters %v; want %v, none, [daily weekly]",
			a.PublishedAt, a.ImageURL, a.Newsletters, now)
	}
	if a, err := s.Get(context.Background(), "https://news.example.org/untitled"); a != nil || err != nil {
		t.Fatalf("untitled item stored: %+v, %v", a, err)
	}
	if got := mustGet(t, s, "https://news.example.org/dup").Title; got != "Dup 1" {
		t.Fatalf("repeated link: title %q, want the first item's", got)
	}
}
