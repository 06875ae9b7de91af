package digests

import (
	"context"
	"fmt"
	"strings"

	"newsletter"
	"newsletter/articles"
)

// checkCuration checks the articles and lead a request names, before any
// of them is looked up.
func (r *Request) checkCuration() error {
	if len(r.Articles) > newsletter.MaxMaxArticles {
		return invalid("articles", "A digest names at most 100 articles.")
	}
	for i, ref := range r.Articles {
		r.Articles[i] = strings.TrimSpace(ref)
		if r.Articles[i] == "" || len(r.Articles[i]) > articles.MaxURLLen {
			return invalid(fmt.Sprintf("articles[%d]", i), "Name each article by its id or its URL.")
		}
	}
	r.Lead = strings.TrimSpace(r.Lead)
	if len(r.Lead) > articles.MaxURLLen {
		return invalid("lead", "Name the lead article by its id or its URL.")
	}
	return nil
}

// curated returns the articles refs name (each an id or a URL), in that
// order, as the store has them now.
func (s *Service) curated(ctx context.Context, refs []string) ([]articles.Article, error) {
	seen := make(map[string]int, len(refs))
	list := make([]articles.Article, 0, len(refs))
	for i, ref := range refs {
		field := fmt.Sprintf("articles[%d]", i)
		a, err := s.article(ctx, ref)
		if err != nil {
			return nil, fmt.Errorf("digests: curate: %w", err)
		} else if a == nil {
			return nil, invalid(field, "No article has this id or URL.")
		}
		if first, dup := seen[a.ID]; dup {
			return nil, invalid(field, fmt.Sprintf("This article is articles[%d] already.", first))
		}
		seen[a.ID] = i
		list = append(list, *a)
	}
	return list, nil
}

// article returns the article ref names by id or by URL, or nil.
func (s *Service) article(ctx context.Context, ref string) (*articles.Article, error) {
	if articles.ValidID(ref) {
		if a, err := s.Articles.ByID(ctx, ref); a != nil || err != nil {
			return a, err
		}
	}
	if !strings.HasPrefix(ref, "http://") && !strings.HasPrefix(ref, "https://") {
		return nil, nil
	}
	a, err := s.Articles.Get(ctx, ref)
	if a != nil && a.ID == "" {
		a.ID = articles.IDOf(a.URL)
	}
	return a, err
}

// markLead makes the article lead names (id or URL) the digest's lead:
// first, and the only one marked lead, in the digest's copy of the
// articles (the stored articles are left alone). With lead empty, a
// curated list loses the stored lead marks, as its order is the editor's,
// and a default selection keeps them.
func markLead(list []articles.Article, lead string, curated bool) error {
	if lead == "" {
		if curated {
			for i := range list {
				list[i].Lead = false
			}
		}
		return nil
	}
	at := -1
	for i, a := range list {
		if a.ID == lead || a.URL == lead {
			at = i
		}
	}
	if at < 0 {
		return invalid("lead", "The lead must be one of the digest's articles.")
	}
	chosen := list[at]
	copy(list[1:at+1], list[:at])
	list[0] = chosen
	for i := range list {
		list[i].Lead = i == 0
	}
	return nil
}

// PreviewRequest returns the digest of newsletter nl that req would
// create now (its articles, order and lead), storing and sending nothing.
func (s *Service) PreviewRequest(ctx context.Context, nl string, req Request) (*Digest, *newsletter.Newsletter, error) {
	n, err := s.newsletter(ctx, nl)
	if err != nil {
		return nil, nil, err
	}
	if err := req.normalize(s.NormalizeAddress); err != nil {
		return nil, nil, err
	}
	d, err := s.draft(ctx, n, req)
	return d, n, err
}
