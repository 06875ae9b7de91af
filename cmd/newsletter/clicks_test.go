package main

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"newsletter"
	"newsletter/digests"
	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

// clickLink finds the signed click links and the open pixel of a digest.
var (
	clickLink = regexp.MustCompile(regexp.QuoteMeta(testBaseURL) + `/r/[0-9a-f]{24}/[0-9a-f]{32}/[A-Za-z0-9_-]{22}`)
	openLink  = regexp.MustCompile(regexp.QuoteMeta(testBaseURL) + `/o/[0-9a-f]{24}/[A-Za-z0-9_-]{22}`)
)

// TestDigestLinksCountClicksAndOpens: with NEWSLETTER_TRACK_OPENS=true a
// sent digest links every article, in HTML and text, through one signed
// click link that is the same in every reader's copy, and carries the
// open pixel; following a link redirects to the article and the digest
// then answers the click and the open.
func TestDigestLinksCountClicksAndOpens(t *testing.T) {
	t.Parallel()
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: redistest.URL(t)}
	h.main = h.run(ModeAll, map[string]string{"NEWSLETTER_TRACK_OPENS": "true"})
	h.url = "http://" + h.main.Addr()
	h.mustNewsletter("daily", "Daily Brief")
	h.seeder().add("reader", 2, newsletter.StatusConfirmed, "daily")
	h.postArticles([]string{"Budget vote", "Storm warning"}, time.Hour)
	_, d := h.createDigest("daily", `{}`)
	h.waitDigest(d.ID, 30*time.Second)
	msgs := h.smtp.WaitFor(t, 2, 10*time.Second)

	var links []string
	for _, m := range msgs {
		_, parts, err := m.Parts()
		if err != nil {
			t.Fatal(err)
		}
		inHTML, inText := uniq(clickLink.FindAllString(parts["text/html"], -1)), uniq(clickLink.FindAllString(parts["text/plain"], -1))
		if len(inHTML) != 2 || !slices.Equal(inHTML, inText) || (links != nil && !slices.Equal(links, inHTML)) {
			t.Fatalf("click links of %v: HTML %v, text %v; want the same 2 in both parts and every copy (first copy %v)", m.To, inHTML, inText, links)
		}
		links = inHTML
		if strings.Contains(parts["text/html"], `href="https://news.example/`) || len(openLink.FindAllString(parts["text/html"], -1)) != 1 {
			t.Fatalf("the HTML links straight to an article or lacks its one open pixel")
		}
	}
	pixel := openLink.FindString(func() string { _, p, _ := msgs[0].Parts(); return p["text/html"] }())
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, link := range []string{links[0], pixel} {
		req, _ := http.NewRequest("GET", h.url+strings.TrimPrefix(link, testBaseURL), nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if link == links[0] && (res.StatusCode != http.StatusFound || !slices.Contains(articleURLs(d), res.Header.Get("Location"))) {
			t.Fatalf("click = %d to %q, want 302 to one of %v", res.StatusCode, res.Header.Get("Location"), articleURLs(d))
		}
	}
	_, raw := h.editor("GET", "/v1/digests/"+d.ID, "")
	var got struct {
		Clicks struct{ Total, Unique int }
		Opens  *struct{ Total, Unique int }
	}
	if err := json.Unmarshal([]byte(raw), &got); err != nil || got.Clicks.Total != 1 || got.Clicks.Unique != 1 || got.Opens == nil || got.Opens.Total != 1 {
		t.Fatalf("digest = %s; want 1 click by 1 reader and 1 open", raw)
	}
	clicked := links[0][strings.Index(links[0], "/r/")+len("/r/"):]
	article := strings.Split(clicked, "/")[1]
	_, scrape := h.editor("GET", "/metrics", "")
	for _, want := range []string{
		`newsletter_digest_article_clicks{article="` + article + `",digest="` + d.ID + `"} 1`,
		`newsletter_digest_article_unique_clickers{article="` + article + `",digest="` + d.ID + `"} 1`,
		`newsletter_digest_clicks_total{newsletter="daily",outcome="counted"} 1`,
	} {
		if !strings.Contains(scrape, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	if n := strings.Count(scrape, "newsletter_digest_article_clicks{"); n != 2 {
		t.Errorf("/metrics has %d article click gauges, want one per article of the digest (2)", n)
	}
}

// TestPerScrapeReadsOnce: the gauges of one scrape share one reading of
// the latest digests and their clicks, instead of one each.
func TestPerScrapeReadsOnce(t *testing.T) {
	reads := 0
	latest := perScrape(func(context.Context) ([]*digests.Digest, error) {
		reads++
		return []*digests.Digest{{ID: "d"}}, nil
	})
	clicks := articleGauges(latest, func(a digests.ArticleClicks) int64 { return a.Clicks })
	unique := articleGauges(latest, func(a digests.ArticleClicks) int64 { return a.Unique })
	for _, g := range []func() (map[[2]string]float64, error){clicks, unique} {
		if _, err := g(); err != nil {
			t.Fatal(err)
		}
	}
	if reads != 1 {
		t.Fatalf("one scrape read the latest digests %d times, want once", reads)
	}
}

// uniq returns list without repeats, in first-seen order.
func uniq(list []string) []string {
	var out []string
	for _, s := range list {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// articleURLs lists the URLs of digest d's articles.
func articleURLs(d digestView) []string {
	var out []string
	for _, a := range d.Articles {
		out = append(out, a.URL)
	}
	return out
}
