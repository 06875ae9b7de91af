package digests

import (
	"context"
	"fmt"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
)

// Engagement is what readers did with a digest, counted without naming
// any of them: clicks per article and, when opens are tracked, opens.
type Engagement struct {
	Clicks ClickStats `json:"clicks"`
	// Opens is nil unless the digest's emails carry the open pixel
	// (NEWSLETTER_TRACK_OPENS).
	Opens *OpenStats `json:"opens,omitempty"`
}

// ClickStats are a digest's clicks: in all, estimated unique clickers,
// and per article in the digest's order.
type ClickStats struct {
	Total    int64           `json:"total"`
	Unique   int64           `json:"unique"`
	Articles []ArticleClicks `json:"articles"`
}

// ArticleClicks are the clicks on one article's link.
type ArticleClicks struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Title  string `json:"title"`
	Clicks int64  `json:"clicks"`
	Unique int64  `json:"unique"`
}

// OpenStats are a digest's opens and estimated unique openers.
type OpenStats struct {
	Total  int64 `json:"total"`
	Unique int64 `json:"unique"`
}

// engagement reads the click and open counts of d in one pipeline. The
// unique estimates leave out the scanners: |A ∪ S| - |S| of HyperLogLogs.
func (s *Store) engagement(ctx context.Context, d *Digest) (Engagement, error) {
	var clicks *redis.MapStringStringCmd
	var scanners, clickers, openers *redis.IntCmd
	var opens *redis.StringCmd
	each := make([]*redis.IntCmd, len(d.Articles))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		clicks = p.HGetAll(ctx, keyClicks(d.ID))
		scanners = p.PFCount(ctx, keyScanners(d.ID))
		clickers = p.PFCount(ctx, keyClickers(d.ID), keyScanners(d.ID))
		for i, a := range d.Articles {
			each[i] = p.PFCount(ctx, keyArticleClickers(d.ID, articles.IDOf(a.URL)), keyScanners(d.ID))
		}
		opens = p.Get(ctx, keyOpens(d.ID))
		openers = p.PFCount(ctx, keyOpeners(d.ID), keyScanners(d.ID))
		return nil
	})
	if err != nil && err != redis.Nil {
		return Engagement{}, fmt.Errorf("digests: engagement of %s: %w", d.ID, err)
	}
	var e Engagement
	for _, n := range clicks.Val() {
		e.Clicks.Total += atoi(n)
	}
	e.Clicks.Unique = min(e.Clicks.Total, max(0, clickers.Val()-scanners.Val()))
	e.Clicks.Articles = make([]ArticleClicks, len(d.Articles))
	for i, a := range d.Articles {
		id := articles.IDOf(a.URL)
		e.Clicks.Articles[i] = ArticleClicks{ID: id, URL: a.URL, Title: a.Title,
			Clicks: atoi(clicks.Val()[id])}
		e.Clicks.Articles[i].Unique = min(e.Clicks.Articles[i].Clicks, max(0, each[i].Val()-scanners.Val()))
	}
	if opens.Err() == nil {
		total := atoi(opens.Val())
		e.Opens = &OpenStats{Total: total, Unique: min(total, max(0, openers.Val()-scanners.Val()))}
	}
	return e, nil
}
