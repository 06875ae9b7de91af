package digests_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/articles"
	"newsletter/digests"
	"newsletter/internal/redistest"
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

// MustEngagement returns digest id with its clicks and opens.
func (e *env) MustEngagement(tb testing.TB, id string) *digests.Digest {
	tb.Helper()
	d := e.MustGet(tb, id)
	if err := e.svc.Store.Engagement(context.Background(), d); err != nil {
		tb.Fatalf("Engagement(%s): %v", id, err)
	}
	return d
}

// after moves the clock on by d.
func (e *env) after(d time.Duration) { e.clock.Set(e.clock.Now().Add(d)) }

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
	got := e.MustEngagement(t, d.ID).Clicks
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
	if e.MustEngagement(t, d.ID).Opens != nil {
		t.Errorf("opens shown for a digest without the open pixel")
	}
}

// TestCountSkipsScanners: test digests, scanners' user agents and a
// visitor that follows three links within a second or two count nothing;
// the burst's earlier clicks are taken back, and the visitor stays out
// for minutes, not for the rest of the day.
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
	e.after(5 * time.Minute)
	if out := e.click(t, d.ID, ids[0], scanner); out != digests.CountScanner {
		t.Fatalf("a scanner's click 5 minutes later = %s, want scanner", out)
	}
	reader := digests.Visitor{IP: "203.0.113.7", UserAgent: browserUA}
	e.click(t, d.ID, ids[0], reader)
	e.clock.Set(e.clock.Now().Add(6 * time.Second)) // a reader back from the first story
	e.click(t, d.ID, ids[1], reader)
	e.clock.Set(e.clock.Now().Add(6 * time.Second))
	e.click(t, d.ID, ids[2], reader)
	got := e.MustEngagement(t, d.ID).Clicks
	// The embedded Redis's PFCOUNT of several keys is not their union's.
	if got.Total != 3 || got.Articles[0].Clicks != 1 || redistest.Real() && (got.Unique != 1 || got.Articles[0].Unique != 1) {
		t.Fatalf("clicks = %+v; want the reader's 3 only, the scanner's taken back", got)
	}
	e.after(25 * time.Minute)
	if out := e.click(t, d.ID, ids[0], scanner); out != digests.CountCounted {
		t.Fatalf("a scanner's click 30 minutes later = %s, want counted: the mark lapses", out)
	}

	test, testIDs := e.MustSentDigest(t, "editor@example.org")
	if out := e.click(t, test.ID, testIDs[0], reader); out != digests.CountTest {
		t.Fatalf("a test digest's click = %s, want test", out)
	}
	if got := e.MustEngagement(t, test.ID).Clicks; got.Total != 0 {
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
	if got := e.MustEngagement(t, d.ID).Clicks; got.Total != 0 || got.Unique != 0 {
		t.Fatalf("clicks = %+v, want none", got)
	}
}

// TestCountStoresNoReader: after clicks, nothing in Redis holds the
// reader's IP address or user agent; the day's salt expires by midnight
// UTC, and the scanner marks and burst buckets sooner.
func TestCountStoresNoReader(t *testing.T) {
	redistest.NeedsReal(t, "DUMP of hashes, sets and HyperLogLogs")
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
		if strings.Contains(k, ":salt:") || strings.Contains(k, ":marks:") || strings.Contains(k, ":burst:") {
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

// TestCountReadersOpeningTabs: a reader who opens three stories in tabs
// a second and a half apart, and then a fourth, counts every click; so
// does one who opens two stories that far apart while the digest is
// still being sent.
func TestCountReadersOpeningTabs(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 5})
	e.MustArticles(t, "daily", -4*time.Hour, -3*time.Hour, -2*time.Hour, -time.Hour)
	d := e.MustCreate(t, "daily", digests.Request{}) // queued: being delivered
	ids := make([]string, len(d.Articles))
	for i, a := range d.Articles {
		ids[i] = articles.IDOf(a.URL)
	}
	delivering := digests.Visitor{IP: "198.51.100.1", UserAgent: browserUA}
	e.click(t, d.ID, ids[0], delivering)
	e.after(1500 * time.Millisecond)
	if out := e.click(t, d.ID, ids[1], delivering); out != digests.CountCounted {
		t.Fatalf("a second story 1.5 s later at delivery = %s, want counted", out)
	}
	if _, err := e.svc.Cancel(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	e.after(time.Hour)
	reader := digests.Visitor{IP: "203.0.113.7", UserAgent: browserUA}
	var outs []digests.CountOutcome
	for _, art := range ids {
		outs = append(outs, e.click(t, d.ID, art, reader))
		e.after(1500 * time.Millisecond)
	}
	for i, out := range outs {
		if out != digests.CountCounted {
			t.Fatalf("tabs 1.5 s apart = %v; want all counted (%d)", outs, i)
		}
	}
	if got := e.MustEngagement(t, d.ID).Clicks; got.Total != 6 || got.Unique != 2 {
		t.Fatalf("clicks = %+v, want 6 by 2 readers", got)
	}
}

// TestCountBurstAtMidnight: a burst in the last millisecond of the day is
// marked like any other, with no error half-way.
func TestCountBurstAtMidnight(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	e.clock.Set(time.Date(2026, 3, 15, 0, 0, 0, 0, time.UTC).Add(-500 * time.Microsecond))
	v := digests.Visitor{IP: "192.0.2.9", UserAgent: browserUA}
	outs := []digests.CountOutcome{e.click(t, d.ID, ids[0], v), e.click(t, d.ID, ids[1], v), e.click(t, d.ID, ids[2], v)}
	if outs[2] != digests.CountBurst {
		t.Fatalf("a burst at midnight = %v, want a burst", outs)
	}
	if got := e.MustEngagement(t, d.ID).Clicks; got.Total != 0 {
		t.Fatalf("clicks = %+v, want the burst's taken back", got)
	}
}

// TestCountCutsUserAgent: only the first 256 bytes of a user agent count,
// so that changing the end of a long one makes no new visitor.
func TestCountCutsUserAgent(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	long := browserUA + strings.Repeat(" x", 200)
	for i, art := range ids[:2] {
		if out := e.click(t, d.ID, art, digests.Visitor{IP: "203.0.113.7", UserAgent: long + strings.Repeat("y", i+1)}); out != digests.CountCounted {
			t.Fatalf("click = %s, want counted", out)
		}
		e.after(10 * time.Second)
	}
	if got := e.MustEngagement(t, d.ID).Clicks; got.Total != 2 || got.Unique != 1 {
		t.Fatalf("clicks = %+v, want 2 by 1 visitor", got)
	}
}

// TestCountScannerMarksShareKeys: many scanners leave a few keys of the
// digest that expire within minutes, not a key each until midnight.
func TestCountScannerMarksShareKeys(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	ctx := context.Background()
	for i := range 50 {
		v := digests.Visitor{IP: "192.0.2." + strconv.Itoa(i), UserAgent: browserUA}
		for _, art := range ids {
			e.click(t, d.ID, art, v)
		}
	}
	keys, err := e.rdb.Keys(ctx, "*digest:"+d.ID+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) > 10 {
		t.Fatalf("%d keys after 50 scanners: %v", len(keys), keys)
	}
	for _, k := range keys {
		if !strings.Contains(k, ":marks:") && !strings.Contains(k, ":burst:") {
			continue
		}
		if ttl, err := e.rdb.PTTL(ctx, k).Result(); err != nil || ttl <= 0 || ttl > 20*time.Minute {
			t.Errorf("key %s lives %v, want 20 minutes at most", k, ttl)
		}
	}
}

// TestCountVisitorPerDigest: the same reader is a different visitor in
// each digest, so that no hash links what one does across newsletters.
func TestCountVisitorPerDigest(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	other := e.MustCreate(t, "daily", digests.Request{})
	v := digests.Visitor{IP: "203.0.113.7", UserAgent: browserUA}
	e.click(t, d.ID, ids[0], v)
	e.click(t, other.ID, articles.IDOf(other.Articles[0].URL), v)
	if a, b := visitors(t, e, d.ID), visitors(t, e, other.ID); len(a) != 1 || len(b) != 1 || a[0] == b[0] {
		t.Fatalf("the reader's hashes = %v in one digest, %v in the other; want one each, different", a, b)
	}
}

// visitors returns the visitors of digest id's current burst bucket.
func visitors(t *testing.T, e *env, id string) []string {
	t.Helper()
	ctx := context.Background()
	keys, err := e.rdb.Keys(ctx, "*digest:"+id+":burst:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		fields, err := e.rdb.HKeys(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, fields...)
	}
	return out
}

// TestScannerAgent: crawlers, link expanders and scanners are known by
// their user agents; a phone whose model has "bot" in it is a reader.
func TestScannerAgent(t *testing.T) {
	for ua, want := range map[string]bool{
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)":                                true,
		"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)":                               true,
		"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)":                                              true,
		"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)":                                       true,
		"TelegramBot (like TwitterBot)":                                                                           true,
		"WhatsApp/2.23.20.0 A":                                                                                    true,
		"Mozilla/5.0 (compatible; bot)":                                                                           true,
		"Mozilla/5.0 (Linux; Android 10; CUBOT P40 Build/QP1A.190711.020) AppleWebKit/537.36 Chrome/126.0 Mobile": false,
		"Mozilla/5.0 (Linux; Android 12; CUBOT; KingKong 9) AppleWebKit/537.36 Chrome/126.0 Mobile Safari/537.36": false,
		browserUA: false,
		"":        true,
	} {
		if got := digests.ScannerAgent(ua); got != want {
			t.Errorf("ScannerAgent(%q) = %v, want %v", ua, got, want)
		}
	}
}

// TestGetLeavesOutEngagement: Get answers a digest without reading its
// clicks and opens; Engagement adds them.
func TestGetLeavesOutEngagement(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	e.click(t, d.ID, ids[0], digests.Visitor{IP: "203.0.113.7", UserAgent: browserUA})
	if got := e.MustGet(t, d.ID).Clicks; got.Total != 0 || got.Articles != nil {
		t.Fatalf("Get's clicks = %+v, want none read", got)
	}
	if got := e.MustEngagement(t, d.ID).Clicks; got.Total != 1 || len(got.Articles) != 3 {
		t.Fatalf("Engagement's clicks = %+v, want 1 over 3 articles", got)
	}
}

// TestFoldKeepsNumbersAndDropsSketches: once a digest finished more than
// the retention ago, Fold keeps its numbers in its hash and deletes its
// sketches and clicks hash; later clicks and opens count nothing.
func TestFoldKeepsNumbersAndDropsSketches(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	ctx := context.Background()
	for i, ip := range []string{"203.0.113.7", "198.51.100.20", "192.0.2.44"} {
		v := digests.Visitor{IP: ip, UserAgent: browserUA}
		e.click(t, d.ID, ids[i%2], v)
		if out, err := e.svc.Store.CountOpen(ctx, d.ID, mustLinked(t, e, d.ID), v, e.clock.Now()); err != nil || out != digests.CountCounted {
			t.Fatalf("CountOpen = %s, %v", out, err)
		}
		e.after(10 * time.Second)
	}
	before := e.MustEngagement(t, d.ID).Engagement
	if n, err := e.svc.Store.Fold(ctx, "daily", e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("Fold within the retention = %d, %v; want 0", n, err)
	}
	e.after(e.svc.Store.Retention + time.Hour)
	if n, err := e.svc.Store.Fold(ctx, "daily", e.clock.Now()); err != nil || n != 1 {
		t.Fatalf("Fold = %d, %v; want 1", n, err)
	}
	if keys := sketches(t, e, d.ID); len(keys) != 0 {
		t.Fatalf("keys left after folding: %v", keys)
	}
	if out := e.click(t, d.ID, ids[0], digests.Visitor{IP: "203.0.113.99", UserAgent: browserUA}); out != digests.CountFolded {
		t.Fatalf("a click after folding = %s, want folded", out)
	}
	after := e.MustEngagement(t, d.ID).Engagement
	if diff := cmp.Diff(before, after); diff != "" || after.Clicks.Total != 3 || after.Opens == nil || after.Opens.Total != 3 {
		t.Fatalf("numbers changed by folding (-before +after):\n%s\n%+v", diff, after)
	}
	if keys := sketches(t, e, d.ID); len(keys) != 0 {
		t.Fatalf("a click after folding left keys: %v", keys)
	}
	if n, err := e.svc.Store.Fold(ctx, "daily", e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("Fold again = %d, %v; want 0", n, err)
	}
}

// sketches returns digest id's keys but for its burst buckets and scanner
// marks, which expire by the real clock within minutes.
func sketches(t *testing.T, e *env, id string) []string {
	t.Helper()
	keys, err := e.rdb.Keys(context.Background(), "*digest:"+id+":*").Result()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, k := range keys {
		if !strings.Contains(k, ":burst:") && !strings.Contains(k, ":marks:") {
			out = append(out, k)
		}
	}
	return out
}

// mustLinked returns what digest id's links need.
func mustLinked(t *testing.T, e *env, id string) *digests.Linked {
	t.Helper()
	l, err := e.svc.Store.Linked(context.Background(), id, e.clock.Now())
	if err != nil || l == nil {
		t.Fatalf("Linked(%s) = %v, %v", id, l, err)
	}
	return l
}

// TestFoldPassesOverAStuckDigest: a digest that never finishes (stuck
// sending) does not hold back the folding of the digests after it, and
// is folded itself once it finishes long enough ago.
func TestFoldPassesOverAStuckDigest(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 5})
	e.MustArticles(t, "daily", -2*time.Hour)
	stuck := e.MustCreate(t, "daily", digests.Request{}) // queued, and no worker ever starts it
	e.after(time.Hour)
	e.MustArticles(t, "daily", -time.Minute)
	done := e.MustCreate(t, "daily", digests.Request{})
	if _, err := e.svc.Cancel(ctx, done.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	e.after(e.svc.Store.Retention + time.Hour)
	if n, err := e.svc.Store.Fold(ctx, "daily", e.clock.Now()); err != nil || n != 1 {
		t.Fatalf("Fold with a stuck digest first = %d, %v; want the finished one folded", n, err)
	}
	if n, err := e.svc.Store.Fold(ctx, "daily", e.clock.Now()); err != nil || n != 0 {
		t.Fatalf("Fold again = %d, %v; want 0", n, err)
	}
	if _, err := e.svc.Cancel(ctx, stuck.ID); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	e.after(e.svc.Store.Retention + time.Hour)
	if n, err := e.svc.Store.Fold(ctx, "daily", e.clock.Now()); err != nil || n != 1 {
		t.Fatalf("Fold once the stuck digest finished = %d, %v; want it folded", n, err)
	}
}

// TestProcessesShareTheDaysSalt: two processes (two stores on one Redis)
// hash a reader alike, so the reader counts once among the unique
// clickers whichever process served the clicks; each keeps the salt it
// read, and a new day brings a new salt to both.
func TestProcessesShareTheDaysSalt(t *testing.T) {
	e := MustEnv(t)
	d, ids := e.MustSentDigest(t)
	ctx := context.Background()
	other := digests.NewStore(e.rdb)
	ann := digests.Visitor{IP: "203.0.113.7", UserAgent: browserUA}
	for i, store := range []*digests.Store{e.svc.Store, other, e.svc.Store} {
		out, err := store.CountClick(ctx, d.ID, ids[i%2], mustLinked(t, e, d.ID), ann, e.clock.Now())
		if err != nil || out != digests.CountCounted {
			t.Fatalf("click %d = %s, %v", i, out, err)
		}
		e.after(time.Minute)
	}
	if got := e.MustEngagement(t, d.ID).Clicks; got.Total != 3 || got.Unique != 1 {
		t.Fatalf("clicks = %+v; want 3 by 1 reader across both processes", got)
	}
	e.after(24 * time.Hour) // the next day: a new salt, so the same reader counts anew
	for _, store := range []*digests.Store{other, e.svc.Store} {
		if _, err := store.CountClick(ctx, d.ID, ids[0], mustLinked(t, e, d.ID), ann, e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		e.after(time.Minute)
	}
	if got := e.MustEngagement(t, d.ID).Clicks; got.Total != 5 || got.Unique != 2 {
		t.Fatalf("clicks = %+v; want 5 by 2 estimated readers (one per day)", got)
	}
}
