package digests_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"newsletter"
	"newsletter/articles"
	"newsletter/digests"
)

// browserUA is the user agent of a reader's browser.
const browserUA = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"

// MustSentDigest creates a digest of newsletter daily with three articles
// and cancels it, so that it is no longer being delivered once the clock
// moves on; it returns the digest and its article ids.
func (e *env) MustSentDigest(tb testing.TB, test ...string) (*digests.Digest, []string) {
	tb.Helper()
	e.MustNewsletter(tb, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 5})
	e.MustArticles(tb, "daily", -3*time.Hour, -2*time.Hour, -time.Hour)
	d := e.MustCreate(tb, "daily", digests.Request{TestRecipients: test})
	if _, err := e.svc.Cancel(context.Background(), d.ID); err != nil {
		tb.Fatalf("Cancel: %v", err)
	}
	e.clock.Set(t0.Add(10 * time.Minute))
	ids := make([]string, len(d.Articles))
	for i, a := range d.Articles {
		ids[i] = articles.IDOf(a.URL)
	}
	return d, ids
}

// click counts one click as the redirect does, and returns its outcome.
func (e *env) click(tb testing.TB, id, article string, v digests.Visitor) digests.CountOutcome {
	tb.Helper()
	ctx := context.Background()
	l, err := e.svc.Store.Linked(ctx, id, e.clock.Now())
	if err != nil || l == nil {
		tb.Fatalf("Linked(%s) = %v, %v", id, l, err)
	}
	out, err := e.svc.Store.CountClick(ctx, id, article, l, v, e.clock.Now())
	if err != nil {
		tb.Fatalf("CountClick: %v", err)
	}
	return out
}

// TestCountClicksPerArticle: clicks add up per article, readers count once
// each among the unique clickers, and the digest answers both, in its
// articles' order.
func TestCountClicksPerArticle(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	ann := digests.Visitor{IP: "203.0.113.7", UserAgent: browserUA}
	bob := digests.Visitor{IP: "198.51.100.20", UserAgent: browserUA}
	for _, c := range []struct {
		v   digests.Visitor
		art string
	}{{ann, ids[0]}, {bob, ids[0]}, {ann, ids[1]}} {
		if out := e.click(t, d.ID, c.art, c.v); out != digests.CountCounted {
			t.Fatalf("click = %s, want counted", out)
		}
		e.clock.Set(e.clock.Now().Add(10 * time.Second))
	}
	e.click(t, d.ID, ids[0], ann) // Ann again, a minute later: a click, not a new reader
	got := e.MustGet(t, d.ID).Clicks
	if got.Total != 4 || got.Unique != 2 || len(got.Articles) != 3 {
		t.Fatalf("clicks = %+v, want 4 in all by 2 readers over 3 articles", got)
	}
	want := []struct{ clicks, unique int64 }{{3, 2}, {1, 1}, {0, 0}}
	for i, a := range got.Articles {
		if a.ID != ids[i] || a.URL != d.Articles[i].URL || a.Title != d.Articles[i].Title ||
			a.Clicks != want[i].clicks || a.Unique != want[i].unique {
			t.Errorf("article %d = %+v, want %s with %d clicks by %d", i, a, ids[i], want[i].clicks, want[i].unique)
		}
	}
	if e.MustGet(t, d.ID).Opens != nil {
		t.Errorf("opens shown for a digest without the open pixel")
	}
}

// TestCountSkipsScanners: test digests, scanners' user agents and a
// visitor that follows several links within seconds count nothing; the
// burst's earlier clicks are taken back, and the visitor stays out for
// the day.
func TestCountSkipsScanners(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	for _, ua := range []string{"", "Mozilla/5.0 (compatible; Barracuda Sentinel)", "python-requests/2.31", "Slackbot-LinkExpanding 1.0", "curl/8.5.0"} {
		if out := e.click(t, d.ID, ids[0], digests.Visitor{IP: "192.0.2.1", UserAgent: ua}); out != digests.CountAgent {
			t.Errorf("user agent %q: %s, want agent", ua, out)
		}
	}
	scanner := digests.Visitor{IP: "192.0.2.9", UserAgent: browserUA}
	outs := []digests.CountOutcome{e.click(t, d.ID, ids[0], scanner), e.click(t, d.ID, ids[0], scanner), e.click(t, d.ID, ids[1], scanner), e.click(t, d.ID, ids[2], scanner)}
	if outs[0] != digests.CountCounted || outs[2] != digests.CountCounted || outs[3] != digests.CountBurst {
		t.Fatalf("a scanner's clicks = %v; want counted until its third article within seconds, a burst", outs)
	}
	e.clock.Set(e.clock.Now().Add(time.Hour))
	if out := e.click(t, d.ID, ids[0], scanner); out != digests.CountScanner {
		t.Fatalf("a scanner's click an hour later = %s, want scanner", out)
	}
	reader := digests.Visitor{IP: "203.0.113.7", UserAgent: browserUA}
	e.click(t, d.ID, ids[0], reader)
	e.clock.Set(e.clock.Now().Add(6 * time.Second)) // a reader back from the first story
	e.click(t, d.ID, ids[1], reader)
	e.clock.Set(e.clock.Now().Add(6 * time.Second))
	e.click(t, d.ID, ids[2], reader)
	got := e.MustGet(t, d.ID).Clicks
	if got.Total != 3 || got.Unique != 1 || got.Articles[0].Clicks != 1 || got.Articles[0].Unique != 1 {
		t.Fatalf("clicks = %+v; want the reader's 3 only, the scanner's taken back", got)
	}

	test, testIDs := e.MustSentDigest(t, "editor@example.org")
	if out := e.click(t, test.ID, testIDs[0], reader); out != digests.CountTest {
		t.Fatalf("a test digest's click = %s, want test", out)
	}
	if got := e.MustGet(t, test.ID).Clicks; got.Total != 0 {
		t.Fatalf("test digest clicks = %+v, want none", got)
	}
}

// TestCountDuringDeliveryIsStricter: while a digest is being sent, two
// links within seconds make a scanner (mail scanners follow every link at
// delivery).
func TestCountDuringDeliveryIsStricter(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 5})
	e.MustArticles(t, "daily", -2*time.Hour, -time.Hour)
	d := e.MustCreate(t, "daily", digests.Request{}) // queued: being delivered
	v := digests.Visitor{IP: "192.0.2.9", UserAgent: browserUA}
	first, second := e.click(t, d.ID, articles.IDOf(d.Articles[0].URL), v), e.click(t, d.ID, articles.IDOf(d.Articles[1].URL), v)
	if first != digests.CountCounted || second != digests.CountBurst {
		t.Fatalf("two links within a second at delivery = %s, %s; want counted, burst", first, second)
	}
	if got := e.MustGet(t, d.ID).Clicks; got.Total != 0 || got.Unique != 0 {
		t.Fatalf("clicks = %+v, want none", got)
	}
}

// TestCountStoresNoReader: after clicks, nothing in Redis holds the
// reader's IP address or user agent; the day's salt expires by midnight
// UTC, and the scanner marks and burst windows with it.
func TestCountStoresNoReader(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	v := digests.Visitor{IP: "203.0.113.77", UserAgent: browserUA + " Reader/77"}
	for _, art := range ids {
		e.click(t, d.ID, art, v)
	}
	ctx := context.Background()
	keys, err := e.rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var salts int
	for _, k := range keys {
		dump, err := e.rdb.Dump(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(k+dump, "203.0.113.77") || strings.Contains(k+dump, "Reader/77") {
			t.Errorf("key %s holds the reader's address or user agent", k)
		}
		if strings.Contains(k, ":salt:") || strings.Contains(k, ":scanner:") || strings.Contains(k, ":burst:") {
			salts++
			ttl, err := e.rdb.TTL(ctx, k).Result()
			if err != nil || ttl <= 0 || ttl > 24*time.Hour {
				t.Errorf("key %s lives %v, want until the day ends at most", k, ttl)
			}
		}
	}
	if salts == 0 {
		t.Fatalf("no salt among %v", keys)
	}
}
