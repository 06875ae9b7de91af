package api_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"

	"newsletter/digests"
)

// TestNewsletterPagesAndArchive: /newsletters lists the public newsletters,
// /newsletters/{id} shows one with its schedule in words, a sign-up form
// and its past issues newest first (test sends never), each linking to its
// web view; /newsletters/{id}/feed.xml is valid Atom (parsed with gofeed);
// a private newsletter has no page, feed, archive or web view (issue 18).
func TestNewsletterPagesAndArchive(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	if r := e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily <Brief>","description":"The morning's news.","schedule":"30 7 * * *","timezone":"Europe/Kyiv"}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT daily = %d %s", r.Status, r.Body)
	}
	if r := e.editor("PUT", "/v1/newsletters/secret", `{"name":"Insiders","public":false}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT secret = %d %s", r.Status, r.Body)
	}
	e.importConfirmed("daily", "ann@example.org")
	e.importConfirmed("secret", "ann@example.org")
	ctx := context.Background()
	n := 0
	send := func(nl, body string) string {
		n++
		e.addArticle(fmt.Sprintf("https://news.example/%s/%d", nl, n), fmt.Sprintf("Story %d", n))
		id := digestID(t, e.editor("POST", "/v1/newsletters/"+nl+"/digests", body))
		mustSaveBody(t, e, svc, id)
		if _, err := svc.Store.StartSending(ctx, id, time.Now()); err != nil {
			t.Fatal(err)
		}
		return id
	}
	first := send("daily", `{"subject":"First issue"}`)
	time.Sleep(5 * time.Millisecond)
	second := send("daily", `{"subject":"Second issue","since":"2000-01-01T00:00:00Z"}`)
	test := send("daily", `{"subject":"Test only","since":"2000-01-01T00:00:00Z","test_recipients":["ed@example.org"]}`)
	hidden := send("secret", `{"subject":"Insider issue","since":"2000-01-01T00:00:00Z"}`)

	list := e.do("GET", "/newsletters", nil)
	wantHTML(t, list, http.StatusOK, `<a href="http://news.example.test/newsletters/daily">Daily &lt;Brief&gt;</a>`, "The morning&#39;s news.")
	if strings.Contains(list.Body, "Insiders") {
		t.Errorf("the list shows the private newsletter")
	}

	page := e.do("GET", "/newsletters/daily", nil)
	wantHTML(t, page, http.StatusOK, "<h1>Daily &lt;Brief&gt;</h1>", "Every day at 07:30 (Europe/Kyiv)",
		`<form method="post" action="/v1/subscriptions"`, `<input type="hidden" name="newsletter" value="daily">`,
		`<a href="http://news.example.test/digests/`+second+`">Second issue</a>`,
		`<a href="http://news.example.test/digests/`+first+`">First issue</a>`,
		`<link rel="alternate" type="application/atom+xml" title="Daily &lt;Brief&gt;" href="http://news.example.test/newsletters/daily/feed.xml">`,
		`<meta property="og:title" content="Daily &lt;Brief&gt;">`, `<meta property="og:url" content="http://news.example.test/newsletters/daily">`)
	if strings.Index(page.Body, "Second issue") > strings.Index(page.Body, "First issue") {
		t.Errorf("the archive is not newest first")
	}
	if strings.Contains(page.Body, "Test only") || strings.Contains(page.Body, test) {
		t.Errorf("the archive shows a test send")
	}

	feed := e.do("GET", "/newsletters/daily/feed.xml", nil)
	if feed.Status != http.StatusOK || !strings.HasPrefix(feed.Header.Get("Content-Type"), "application/atom+xml") {
		t.Fatalf("feed = %d %s", feed.Status, feed.Header.Get("Content-Type"))
	}
	parsed, err := gofeed.NewParser().ParseString(feed.Body)
	if err != nil {
		t.Fatalf("the feed does not parse: %v\n%s", err, feed.Body)
	}
	if parsed.FeedType != "atom" || parsed.FeedVersion != "1.0" || parsed.Title != "Daily <Brief>" || len(parsed.Items) != 2 ||
		parsed.Items[0].Title != "Second issue" || parsed.Items[0].Link != "http://news.example.test/digests/"+second {
		t.Errorf("feed = %s %s %q with %d items, want Atom 1.0 with the two issues, newest first:\n%s",
			parsed.FeedType, parsed.FeedVersion, parsed.Title, len(parsed.Items), feed.Body)
	}

	wantHTML(t, e.do("GET", "/digests/"+second, nil, "Accept", "text/html"), http.StatusOK,
		`<a href="/newsletters/daily">Past issues of Daily &lt;Brief&gt;</a>`, `<link rel="alternate" type="application/atom+xml"`,
		`<meta property="og:type" content="article">`)
	for _, path := range []string{"/newsletters/secret", "/newsletters/secret/feed.xml", "/digests/" + hidden, "/newsletters/nosuch"} {
		if r := e.do("GET", path, nil, "Accept", "text/html"); r.Status != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404 (private or unknown)", path, r.Status)
		}
	}

	if got, more, err := svc.Archive(ctx, "daily", 1, 1); err != nil || len(got) != 1 || got[0].ID != first || more {
		t.Errorf("Archive(offset 1, limit 1) = %v, %v, %v; want the first issue and no more", got, more, err)
	}
	if got, more, err := svc.Archive(ctx, "daily", 0, 1); err != nil || len(got) != 1 || got[0].ID != second || !more {
		t.Errorf("Archive(offset 0, limit 1) = %v, %v, %v; want the second issue and more", got, more, err)
	}
}
