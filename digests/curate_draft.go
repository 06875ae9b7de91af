package digests

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"newsletter/articles"
)

// MaxCandidates is how many articles a Draft offers at most, unless the
// newsletter's max_articles is more: a draft always shows the whole
// default selection.
const MaxCandidates = 50

// Candidate is an article an editor may pick for the next digest.
type Candidate struct {
	articles.Article
	// Selected reports whether the article is in the default selection:
	// the digest that would go out if the editor named no articles.
	Selected bool `json:"selected"`
	// Rank is the article's place in the default selection, from 1; 0
	// when it is not in it.
	Rank int `json:"rank,omitempty"`
}

// Draft is what the next digest of a newsletter can be made of: the
// articles published since the cutoff, newest first, for an editor to
// pick, order and mark a lead from.
type Draft struct {
	Newsletter  string      `json:"newsletter"`
	Since       time.Time   `json:"since"`
	MaxArticles int         `json:"max_articles"`
	Articles    []Candidate `json:"articles"`
}

// Draft returns the candidates of newsletter nl's next digest: its articles
// published after the cutoff (the last 24 hours before the first digest),
// newest first, at most MaxCandidates or max_articles, whichever is more,
// each marked when it is in the default selection. It stores nothing.
func (s *Service) Draft(ctx context.Context, nl string) (*Draft, error) {
	n, err := s.newsletter(ctx, nl)
	if err != nil {
		return nil, err
	}
	now := s.Now().UTC()
	since, err := s.since(ctx, nl, now)
	if err != nil {
		return nil, err
	}
	all, err := s.Articles.Select(ctx, nl, since, now, max(MaxCandidates, n.MaxArticles))
	if err != nil {
		return nil, fmt.Errorf("digests: draft: %w", err)
	}
	picked, err := s.Articles.Select(ctx, nl, since, now, n.MaxArticles)
	if err != nil {
		return nil, fmt.Errorf("digests: draft: %w", err)
	}
	slices.SortStableFunc(all, func(a, b articles.Article) int { return b.PublishedAt.Compare(a.PublishedAt) })
	d := &Draft{Newsletter: nl, Since: since, MaxArticles: n.MaxArticles, Articles: make([]Candidate, len(all))}
	for i, a := range all {
		rank := 1 + slices.IndexFunc(picked, func(p articles.Article) bool { return p.ID == a.ID })
		d.Articles[i] = Candidate{Article: a, Selected: rank > 0, Rank: rank}
	}
	return d, nil
}

// since returns the time after which newsletter nl's next digest takes
// articles: its cutoff, or a day before now for its first.
func (s *Service) since(ctx context.Context, nl string, now time.Time) (time.Time, error) {
	cut, err := s.Store.cutoff(ctx, nl)
	if err != nil {
		return time.Time{}, fmt.Errorf("digests: cutoff: %w", err)
	}
	return cmp.Or(cut, now.Add(-firstDigestWindow)), nil
}
