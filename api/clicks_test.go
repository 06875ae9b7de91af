package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image/gif"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/articles"
	"newsletter/digests"
	"newsletter/metrics"
)

// readerUA is a reader's browser.
const readerUA = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36"

// clickEnv is a server whose digests link through signed click links and
// carry the open pixel, with one digest of newsletter daily.
type clickEnv struct {
	*env
	srv      *api.Server
	links    *digests.Links
	articles *articles.Store
	digest   string
	urls     []string // the digest's articles, in order
}

// newClickEnv returns a clickEnv whose digest has two articles; test
// recipients make it a test digest.
func newClickEnv(t *testing.T, testRecipients ...string) *clickEnv {
	t.Helper()
	return newClickEnvLogging(t, t.Output(), testRecipients...)
}

// newClickEnvLogging is newClickEnv with the service's log written to logs.
func newClickEnvLogging(t *testing.T, logs io.Writer, testRecipients ...string) *clickEnv {
	t.Helper()
	return newClickEnvWith(t, logs, nil, testRecipients...)
}

// newClickEnvWith is newClickEnvLogging with configure (unless nil) run
// on the server's configuration last.
func newClickEnvWith(t *testing.T, logs io.Writer, configure func(*api.Config, *redis.Client), testRecipients ...string) *clickEnv {
	t.Helper()
	ce := &clickEnv{}
	e, srv := newEnvWith(t, logs, func(cfg *api.Config, rdb *redis.Client) {
		defer func() {
			if configure != nil {
				configure(cfg, rdb)
			}
		}()
		withEditorPages(cfg, rdb)
		links, err := digests.NewLinks(cfg.BaseURL, []string{"a-test-secret-of-enough-length"}, true)
		if err != nil {
			t.Fatal(err)
		}
		cfg.Links, ce.links, ce.articles, cfg.Metrics = links, links, cfg.Articles, metrics.New()
	})
	ce.env, ce.srv = e, srv
	e.putNewsletter("daily", "Daily Brief")
	ce.urls = []string{"https://news.example/politics/vote?utm=1&b=2", "https://news.example/world/storm"}
	for i := len(ce.urls) - 1; i >= 0; i-- {
		e.addArticle(ce.urls[i], fmt.Sprintf("Story %d", i))
	}
	body := `{"since":"2020-01-01T00:00:00Z"`
	if len(testRecipients) > 0 {
		body += `,"test_recipients":["` + strings.Join(testRecipients, `","`) + `"]`
	}
	ce.digest = digestID(t, e.editor("POST", "/v1/newsletters/daily/digests", body+"}"))
	return ce
}

// clickPath is the path of the signed click link to the digest's i-th
// article.
func (ce *clickEnv) clickPath(i int) string {
	link := ce.links.Click(ce.digest, articles.IDOf(ce.urls[i]))
	return link[strings.Index(link, "/r/"):]
}

// engagement is a digest's clicks and opens as the API answers them.
type engagement struct {
	Clicks struct {
		Total, Unique int64
		Articles      []struct {
			ID, URL, Title string
			Clicks, Unique int64
		}
	}
	Opens *struct{ Total, Unique int64 }
}

// engagement reads the digest's numbers through GET /v1/digests/{id}.
func (ce *clickEnv) engagement(t *testing.T) engagement {
	t.Helper()
	r := ce.editor("GET", "/v1/digests/"+ce.digest, "")
	var got engagement
	if err := json.Unmarshal([]byte(r.Body), &got); r.Status != http.StatusOK || err != nil {
		t.Fatalf("GET digest = %d %s", r.Status, r.Body)
	}
	return got
}

// follow sends method to path from a reader at ip without following the
// redirect, through the real router.
func (ce *clickEnv) follow(method, path, ip string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, nil)
	req.RemoteAddr = ip + ":40000"
	req.Header.Set("User-Agent", readerUA)
	rec := httptest.NewRecorder()
	ce.srv.ServeHTTP(rec, req)
	return rec
}

// TestClickRedirectsToTheArticle: a signed link redirects to its article,
// uncached, and counts one click; HEAD and a browser's prefetch redirect
// the same and count nothing; a deleted article's link still leads where
// the digest said.
func TestClickRedirectsToTheArticle(t *testing.T) {
	ce := newClickEnv(t)
	prefetch := httptest.NewRequest("GET", ce.clickPath(0), nil)
	prefetch.Header.Set("Sec-Purpose", "prefetch")
	prefetch.Header.Set("User-Agent", readerUA)
	if rec := httptest.NewRecorder(); func() int { ce.srv.ServeHTTP(rec, prefetch); return rec.Code }() != http.StatusFound {
		t.Fatalf("a prefetch is not redirected")
	}
	for _, method := range []string{"HEAD", "GET"} {
		r := ce.follow(method, ce.clickPath(0), "203.0.113.7")
		if r.Code != http.StatusFound || r.Header().Get("Location") != ce.urls[0] {
			t.Fatalf("%s click = %d to %q, want 302 to %s", method, r.Code, r.Header().Get("Location"), ce.urls[0])
		}
		if r.Header().Get("Cache-Control") != "no-store" || r.Header().Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("%s click headers = %v, want no-store and no-referrer", method, r.Header())
		}
	}
	got := ce.engagement(t)
	if got.Clicks.Total != 1 || got.Clicks.Unique != 1 || len(got.Clicks.Articles) != 2 ||
		got.Clicks.Articles[0].Clicks != 1 || got.Clicks.Articles[0].URL != ce.urls[0] || got.Clicks.Articles[1].Clicks != 0 {
		t.Fatalf("clicks = %+v, want the GET's one click on the first article, not the HEAD's or the prefetch's", got.Clicks)
	}
	if err := ce.articles.Delete(context.Background(), articles.IDOf(ce.urls[1])); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if r := ce.follow("GET", ce.clickPath(1), "198.51.100.4"); r.Code != http.StatusFound || r.Header().Get("Location") != ce.urls[1] {
		t.Fatalf("deleted article's link = %d to %q, want 302 to %s", r.Code, r.Header().Get("Location"), ce.urls[1])
	}
}

// TestClickRefusesBadLinks: unsigned, altered and unknown links answer a
// small 400 page and redirect nowhere.
func TestClickRefusesBadLinks(t *testing.T) {
	ce := newClickEnv(t)
	good := ce.clickPath(0)
	sig := good[strings.LastIndex(good, "/")+1:]
	other := articles.IDOf("https://evil.example/")
	unknown := ce.links.Click("ffffffffffffffffffffffff", articles.IDOf(ce.urls[0]))
	notInDigest := ce.links.Click(ce.digest, other)
	for name, path := range map[string]string{
		"unsigned":           "/r/" + ce.digest + "/" + articles.IDOf(ce.urls[0]),
		"altered signature":  good[:len(good)-2] + "AA",
		"other article":      "/r/" + ce.digest + "/" + other + "/" + sig,
		"unknown digest":     unknown[strings.Index(unknown, "/r/"):],
		"article not in it":  notInDigest[strings.Index(notInDigest, "/r/"):],
		"garbage":            "/r/..%2F..%2Fadmin/x/y",
		"open pixel altered": "/o/" + ce.digest + "/" + sig,
	} {
		r := ce.follow("GET", path, "203.0.113.7")
		if r.Code != http.StatusBadRequest || r.Header().Get("Location") != "" ||
			!strings.Contains(r.Body.String(), "This link is not valid") || !strings.HasPrefix(r.Header().Get("Content-Type"), "text/html") {
			t.Errorf("%s (%s) = %d, Location %q, %q; want a 400 page", name, path, r.Code, r.Header().Get("Location"), r.Body.String())
		}
	}
	if got := ce.engagement(t); got.Clicks.Total != 0 {
		t.Fatalf("bad links counted %d clicks", got.Clicks.Total)
	}
}

// TestClickCountsConcurrentClicks: 1,000 readers clicking at once through
// the real router count 1,000 clicks, and about 1,000 unique clickers.
func TestClickCountsConcurrentClicks(t *testing.T) {
	ce := newClickEnv(t)
	const n = 1000
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = ce.follow("GET", ce.clickPath(i%2), fmt.Sprintf("10.%d.%d.%d", i/65536, i/256%256, i%256)).Code
		}()
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusFound {
			t.Fatalf("click %d = %d, want 302", i, c)
		}
	}
	got := ce.engagement(t)
	if got.Clicks.Total != n || got.Clicks.Articles[0].Clicks != n/2 || got.Clicks.Articles[1].Clicks != n/2 {
		t.Fatalf("clicks = %d (%d + %d), want %d", got.Clicks.Total, got.Clicks.Articles[0].Clicks, got.Clicks.Articles[1].Clicks, n)
	}
	if math.Abs(float64(got.Clicks.Unique-n)) > 0.03*n {
		t.Fatalf("unique clickers = %d, want about %d", got.Clicks.Unique, n)
	}
}

// TestClickTestDigestNotCounted: a test digest's links redirect but count
// nothing.
func TestClickTestDigestNotCounted(t *testing.T) {
	ce := newClickEnv(t, "editor@example.org")
	if r := ce.follow("GET", ce.clickPath(0), "203.0.113.7"); r.Code != http.StatusFound || r.Header().Get("Location") != ce.urls[0] {
		t.Fatalf("test digest click = %d to %q", r.Code, r.Header().Get("Location"))
	}
	if got := ce.engagement(t); got.Clicks.Total != 0 || got.Clicks.Unique != 0 {
		t.Fatalf("test digest clicks = %+v, want none", got.Clicks)
	}
}

// TestOpenPixelCounts: the open pixel is an uncached GIF that counts an
// open per GET (not per HEAD); the counts reach /metrics by newsletter.
func TestOpenPixelCounts(t *testing.T) {
	ce := newClickEnv(t)
	pixel := ce.links.Open(ce.digest)
	path := pixel[strings.Index(pixel, "/o/"):]
	for _, method := range []string{"HEAD", "GET", "GET"} {
		r := ce.follow(method, path, "203.0.113.7")
		if r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/gif" || r.Header().Get("Cache-Control") != "no-store" {
			t.Fatalf("%s pixel = %d %v", method, r.Code, r.Header())
		}
		if img, err := gif.Decode(bytes.NewReader(r.Body.Bytes())); method == "GET" && (err != nil || img.Bounds().Dx() != 1 || img.Bounds().Dy() != 1) {
			t.Fatalf("the pixel is not a 1×1 GIF: %v", err)
		}
	}
	got := ce.engagement(t)
	if got.Opens == nil || got.Opens.Total != 2 || got.Opens.Unique != 1 {
		t.Fatalf("opens = %+v, want 2 by 1 reader", got.Opens)
	}
	ce.follow("GET", ce.clickPath(1), "203.0.113.7")
	ce.wantMetrics(t, `newsletter_digest_opens_total{newsletter="daily",outcome="counted"} 2`,
		`newsletter_digest_clicks_total{newsletter="daily",outcome="counted"} 1`)
}

// wantMetrics checks that /metrics has each of the lines want.
func (ce *clickEnv) wantMetrics(t *testing.T, want ...string) {
	t.Helper()
	m := ce.editor("GET", "/metrics", "")
	for _, w := range want {
		if !strings.Contains(m.Body, w) {
			t.Errorf("/metrics has no %s", w)
		}
	}
}

// TestAdminDigestShowsClickChart: the digest's page draws clicks and
// unique clickers per article as SVG bars scaled to the busiest article,
// with the numbers in a table; the API documents what it answers.
func TestAdminDigestShowsClickChart(t *testing.T) {
	ce := newClickEnv(t)
	ce.follow("GET", ce.clickPath(0), "203.0.113.7")
	ce.follow("GET", ce.clickPath(0), "198.51.100.4")
	ce.follow("GET", ce.clickPath(1), "192.0.2.44")
	b := newBrowser(t, ce.env)
	b.mustLogin()
	page := b.get("/admin/digests/" + ce.digest)
	wantHTML(t, page, http.StatusOK, `<svg class="chart" id="click-chart" role="img"`,
		`<strong id="clicks-total">3</strong> clicks by about <strong id="clicks-unique">3</strong> readers`,
		`<text x="0" y="16" fill="#1a1a1a">Story 0</text>`,
		`<rect x="220" y="4" width="360" height="14"`, `<rect x="220" y="38" width="180" height="14"`,
		`<td><a href="`+strings.ReplaceAll(ce.urls[0], "&", "&amp;")+`" rel="noopener noreferrer">Story 0</a></td><td class="num">2</td><td class="num">2</td>`)
	if strings.Contains(page.Body, "<script") {
		t.Errorf("the digest page has a script")
	}
	wantDocumented(t, "GET", "/v1/digests/{id}", ce.editor("GET", "/v1/digests/"+ce.digest, "").Body)
}

// TestClickLogsNoAddress: the request lines of a click and an open carry
// no client address (nor the digest or article), while other requests'
// lines do.
func TestClickLogsNoAddress(t *testing.T) {
	var logs syncBuffer
	ce := newClickEnvLogging(t, &logs)
	if r := ce.follow("GET", ce.clickPath(0), "203.0.113.7"); r.Code != http.StatusFound {
		t.Fatalf("click = %d, want 302", r.Code)
	}
	open := ce.links.Open(ce.digest)
	if r := ce.follow("GET", open[strings.Index(open, "/o/"):], "203.0.113.8"); r.Code != http.StatusOK {
		t.Fatalf("open = %d, want 200", r.Code)
	}
	if r := ce.follow("GET", "/healthz", "203.0.113.9"); r.Code != http.StatusOK {
		t.Fatalf("healthz = %d, want 200", r.Code)
	}
	out := logs.String()
	for _, secret := range []string{"203.0.113.7", "203.0.113.8", ce.digest} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"route=/r/:digest/:article/:sig", "route=/o/:digest/:sig", "client_ip=203.0.113.9"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log has no %q:\n%s", want, out)
		}
	}
}
