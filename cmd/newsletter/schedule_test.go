package main

import (
	"net/http"
	"net/http/httptest"
	"newsletter"
	"strings"
	"testing"
	"time"
)

var fastTicks = map[string]string{"NEWSLETTER_SCHEDULE_TICK": "1s", "NEWSLETTER_FEED_INTERVAL": "1s"}

func TestScheduleSendsOneDigestPerSlotWithTwoWorkers(t *testing.T) {
	t.Parallel()
	h := mustServeOnly(t)
	body := `{"name":"Daily Brief","schedule":"* * * * *","timezone":"Europe/Kyiv","max_lateness":"1h"}`
	if code, resp := h.editor("PUT", "/v1/newsletters/daily", body); code != 201 {
		t.Fatalf("PUT newsletter = %d %s", code, resp)
	}
	readers := h.seeder().add("reader", 50, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Scheduled story"}, time.Hour)

	h.run(ModeWorker, fastTicks)
	h.run(ModeWorker, fastTicks)
	h.smtp.WaitFor(t, 50, 20*time.Second)
	time.Sleep(4 * time.Second) // several more ticks in both workers
	msgs := h.smtp.Messages()

	digestIDs := map[string]bool{}
	for _, m := range msgs {
		id := m.Header("Message-Id")
		digestIDs[id[1:strings.Index(id, ".")]] = true
	}
	got := copiesByAddress(msgs)
	for _, r := range readers {
		if got[r] != 1 {
			t.Errorf("%s received %d copies, want 1", r, got[r])
		}
	}
	if len(msgs) != 50 || len(digestIDs) != 1 {
		t.Fatalf("%d messages from %d digests, want 50 from one", len(msgs), len(digestIDs))
	}
}

const rssFeed = `<?xml version="1.0"?>
<rss version="2.0"><channel><title>Site</title><link>https://news.example/</link><description>d</description>
<item><title>From the feed</title><link>https://news.example/from-the-feed</link><description>A polled story.</description><pubDate>` + "%s" + `</pubDate></item>
</channel></rss>`

func TestWorkerPollsFeeds(t *testing.T) {
	t.Parallel()
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		w.Write([]byte(strings.Replace(rssFeed, "%s", time.Now().Add(-time.Hour).UTC().Format(time.RFC1123Z), 1)))
	}))
	defer feed.Close()
	h := mustServeOnly(t)
	if code, resp := h.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily","feeds":["`+feed.URL+`/rss"]}`); code != 201 {
		t.Fatalf("PUT newsletter = %d %s", code, resp)
	}
	h.run(ModeWorker, fastTicks)

	deadline := time.Now().Add(15 * time.Second)
	for {
		code, d := h.createDigest("daily", `{"test_recipients":["editor@example.org"]}`)
		if code == 202 {
			if len(d.Articles) != 1 || d.Articles[0].URL != "https://news.example/from-the-feed" {
				t.Fatalf("digest articles = %+v, want the feed's one item", d.Articles)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no article from the feed within 15s (last answer %d)", code)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
