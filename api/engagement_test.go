package api_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/throttle"
)

// TestClickCountLimit: past its rate of counted clicks and opens, a
// client's links still redirect and answer the pixel, uncounted (outcome
// "limited"); other clients count as before.
func TestClickCountLimit(t *testing.T) {
	ce := newClickEnvWith(t, t.Output(), func(cfg *api.Config, rdb *redis.Client) {
		cfg.CountLimit = throttle.NewWindow(rdb, "nl:{nl}:throttle:count:", throttle.Rate{N: 2, Per: time.Minute})
	})
	for i := range 4 {
		if r := ce.follow("GET", ce.clickPath(0), "203.0.113.7"); r.Code != http.StatusFound || r.Header().Get("Location") != ce.urls[0] {
			t.Fatalf("click %d = %d to %q, want 302 to %s", i, r.Code, r.Header().Get("Location"), ce.urls[0])
		}
	}
	open := ce.links.Open(ce.digest)
	if r := ce.follow("GET", open[strings.Index(open, "/o/"):], "203.0.113.7"); r.Code != http.StatusOK || r.Header().Get("Content-Type") != "image/gif" {
		t.Fatalf("pixel past the limit = %d %v", r.Code, r.Header())
	}
	ce.follow("GET", ce.clickPath(0), "198.51.100.4")
	if got := ce.engagement(t); got.Clicks.Total != 3 || (got.Opens != nil && got.Opens.Total != 0) {
		t.Fatalf("clicks = %+v, opens %+v; want 2 + 1 clicks and no open", got.Clicks, got.Opens)
	}
	ce.wantMetrics(t, `newsletter_digest_clicks_total{newsletter="daily",outcome="limited"} 2`,
		`newsletter_digest_opens_total{newsletter="daily",outcome="limited"} 1`)
}

// TestDigestHistoryHasEngagement: each entry of a newsletter's history
// carries its clicks, as GET /v1/digests/{id} does.
func TestDigestHistoryHasEngagement(t *testing.T) {
	ce := newClickEnv(t)
	ce.follow("GET", ce.clickPath(1), "203.0.113.7")
	r := ce.editor("GET", "/v1/newsletters/daily/digests", "")
	var got struct{ Digests []engagement }
	if err := json.Unmarshal([]byte(r.Body), &got); r.Status != http.StatusOK || err != nil || len(got.Digests) != 1 {
		t.Fatalf("history = %d %s", r.Status, r.Body)
	}
	if c := got.Digests[0].Clicks; c.Total != 1 || c.Unique != 1 || len(c.Articles) != 2 || c.Articles[1].Clicks != 1 {
		t.Fatalf("history's clicks = %+v, want the one click on the second article", c)
	}
	if cancel := ce.editor("POST", "/v1/digests/"+ce.digest+"/cancel", ""); cancel.Status != http.StatusOK || !strings.Contains(cancel.Body, `"clicks":{"total":1`) {
		t.Errorf("cancel = %d %s, want the digest with its click", cancel.Status, cancel.Body)
	}
}

// TestArchivePageLimit: a newsletter's public archive answers pages up
// to the 50th, and a page past it is not found without reading a digest.
func TestArchivePageLimit(t *testing.T) {
	ce := newClickEnv(t)
	for page, want := range map[int]int{1: http.StatusOK, 50: http.StatusOK, 51: http.StatusNotFound, 999999: http.StatusNotFound} {
		if r := ce.do("GET", "/newsletters/daily?page="+strconv.Itoa(page), nil); r.Status != want {
			t.Errorf("page %d = %d, want %d", page, r.Status, want)
		}
	}
}
