package articles_test

import (
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
)

// feedItem is one item a feedServer serves.
type feedItem struct {
	Link, Title, Description, Author, Category, Image string
	Published                                         time.Time // zero: no date
}

// feedServer serves a feed of its items, as RSS 2.0 or Atom, with an ETag
// and a Last-Modified, answering 304 when If-None-Match matches the ETag.
// It records the headers of every request.
type feedServer struct {
	*httptest.Server
	atom bool

	mu           sync.Mutex
	items        []feedItem
	etag         string
	lastModified string
	status       int    // non-zero: answer with this status instead
	body         string // non-empty: serve this instead of the items
	requests     []http.Header
	notModified  int // 304 answers given
}

func newFeedServer(tb testing.TB, atom bool, items ...feedItem) *feedServer {
	fs := &feedServer{atom: atom, items: items}
	fs.Server = httptest.NewServer(http.HandlerFunc(fs.serve))
	tb.Cleanup(fs.Close)
	return fs
}

func (fs *feedServer) serve(w http.ResponseWriter, r *http.Request) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fs.requests = append(fs.requests, r.Header.Clone())
	switch {
	case fs.status != 0:
		http.Error(w, "Something broke.", fs.status)
		return
	case fs.etag != "" && r.Header.Get("If-None-Match") == fs.etag:
		fs.notModified++
		w.WriteHeader(http.StatusNotModified)
		return
	}
	if fs.etag != "" {
		w.Header().Set("ETag", fs.etag)
	}
	if fs.lastModified != "" {
		w.Header().Set("Last-Modified", fs.lastModified)
	}
	body := fs.body
	if body == "" {
		body = fs.render()
	}
	w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	_, _ = io.WriteString(w, body)
}

// update changes the server's state under its lock.
func (fs *feedServer) update(fn func(fs *feedServer)) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	fn(fs)
}

// lastRequest returns the headers of the latest request.
func (fs *feedServer) lastRequest(tb testing.TB) http.Header {
	tb.Helper()
	fs.mu.Lock()
	defer fs.mu.Unlock()
	if len(fs.requests) == 0 {
		tb.Fatalf("the feed server saw no request")
	}
	return fs.requests[len(fs.requests)-1]
}

func (fs *feedServer) counts() (requests, notModified int) {
	fs.mu.Lock()
	defer fs.mu.Unlock()
	return len(fs.requests), fs.notModified
}

func (fs *feedServer) render() string {
	var b strings.Builder
	if fs.atom {
		b.WriteString(`<?xml version="1.0" encoding="utf-8"?>` + "\n" +
			`<feed xmlns="http://www.w3.org/2005/Atom"><title>News</title><id>urn:news</id>` +
			`<updated>2025-03-14T09:00:00Z</updated>` + "\n")
		for i, it := range fs.items {
			writeAtomEntry(&b, i, it)
		}
		b.WriteString("</feed>\n")
		return b.String()
	}
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/"><channel>` +
		`<title>News</title><link>https://news.example.org/</link><description>All the news</description>` + "\n")
	for _, it := range fs.items {
		writeRSSItem(&b, it)
	}
	b.WriteString("</channel></rss>\n")
	return b.String()
}

func writeRSSItem(b *strings.Builder, it feedItem) {
	b.WriteString("<item>")
	element(b, "title", it.Title)
	element(b, "link", it.Link)
	element(b, "description", it.Description)
	element(b, "dc:creator", it.Author)
	element(b, "category", it.Category)
	if !it.Published.IsZero() {
		element(b, "pubDate", it.Published.Format(time.RFC1123Z))
	}
	if it.Image != "" {
		fmt.Fprintf(b, `<enclosure url="%s" type="image/jpeg" length="1"/>`, esc(it.Image))
	}
	b.WriteString("</item>\n")
}

func writeAtomEntry(b *strings.Builder, i int, it feedItem) {
	fmt.Fprintf(b, "<entry><id>urn:news:%d</id>", i)
	element(b, "title", it.Title)
	if it.Link != "" {
		fmt.Fprintf(b, `<link rel="alternate" href="%s"/>`, esc(it.Link))
	}
	if it.Description != "" {
		fmt.Fprintf(b, `<summary type="html">%s</summary>`, esc(it.Description))
	}
	if it.Author != "" {
		fmt.Fprintf(b, "<author><name>%s</name></author>", esc(it.Author))
	}
	if it.Category != "" {
		fmt.Fprintf(b, `<category term="%s"/>`, esc(it.Category))
	}
	if !it.Published.IsZero() {
		element(b, "published", it.Published.Format(time.RFC3339))
		element(b, "updated", it.Published.Format(time.RFC3339))
	}
	if it.Image != "" {
		fmt.Fprintf(b, `<link rel="enclosure" type="image/jpeg" href="%s"/>`, esc(it.Image))
	}
	b.WriteString("</entry>\n")
}

// element writes <name>text</name>, or nothing when text is empty.
func element(b *strings.Builder, name, text string) {
	if text != "" {
		fmt.Fprintf(b, "<%s>%s</%s>", name, esc(text), name)
	}
}

// esc escapes s for XML text or attributes, CR and LF included.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}

// mustPoller returns a Poller on a flushed test database that logs to the
// test at debug level, with a clock standing at now.
func mustPoller(tb testing.TB, now time.Time) (*articles.Poller, *articles.Store, *redis.Client) {
	tb.Helper()
	s, rdb := mustStore(tb)
	var out io.Writer = io.Discard
	if t, ok := tb.(*testing.T); ok {
		out = t.Output()
	}
	logger := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p := articles.NewPoller(rdb, s, logger)
	p.Client = articles.FeedClient(true) // the test's feeds are on loopback
	p.Now = func() time.Time { return now }
	return p, s, rdb
}
