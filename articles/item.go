package articles

import (
	"net/url"
	"strings"
	"time"

	"github.com/mmcdole/gofeed"
)

// articles turns feed items into normalized, valid articles of the given
// newsletters, one per link, skipping (and logging) the items that do not
// make one. Relative links are resolved against base, the feed's URL.
func (p *Poller) articles(items []*gofeed.Item, base *url.URL, newsletters []string, feedLabel string) []Article {
	now, log := p.now(), p.logger()
	seen := make(map[string]bool, len(items))
	var arts []Article
	for i, it := range items {
		if it == nil {
			continue
		}
		a, reason := itemArticle(it, base, now)
		if reason == "" {
			a.Newsletters = newsletters
			a.Normalize()
			if err := a.Validate(i); err != nil {
				reason = err.Error()
			}
		}
		if reason != "" {
			log.Debug("Skipping feed item", "feed_url", feedLabel, "item", i, "link", truncate(it.Link, 200), "reason", reason)
			continue
		}
		if !seen[a.URL] {
			seen[a.URL] = true
			arts = append(arts, a)
		}
	}
	return arts
}

// itemArticle returns the article that item it describes, or why it
// describes none.
func itemArticle(it *gofeed.Item, base *url.URL, now time.Time) (Article, string) {
	link := resolve(base, it.Link)
	switch {
	case link == "":
		return Article{}, "no link"
	case !isWebURL(link):
		return Article{}, "not an http or https link"
	}
	a := Article{
		URL:         link,
		Title:       stripHTML(it.Title),
		Summary:     stripHTML(firstNonEmpty(it.Description, it.Content)),
		PublishedAt: firstTime(now, it.PublishedParsed, it.UpdatedParsed),
		ImageURL:    itemImage(it, base),
	}
	if len(it.Authors) > 0 && it.Authors[0] != nil {
		a.Author = it.Authors[0].Name
	}
	if len(it.Categories) > 0 {
		a.Section = it.Categories[0]
	}
	return a, ""
}

// itemImage returns the item's image, or else the first image among its
// enclosures, when that is an acceptable http or https URL.
func itemImage(it *gofeed.Item, base *url.URL) string {
	var candidates []string
	if it.Image != nil {
		candidates = append(candidates, it.Image.URL)
	}
	for _, e := range it.Enclosures {
		if e != nil && strings.HasPrefix(strings.ToLower(e.Type), "image/") {
			candidates = append(candidates, e.URL)
		}
	}
	for _, c := range candidates {
		if u := resolve(base, c); u != "" && checkURL(u, true) == "" {
			return u
		}
	}
	return ""
}

// resolve returns ref, trimmed, made absolute against base when it is
// relative; "" when ref is empty. An absolute ref is returned as written,
// so a feed's link matches the same URL posted by an editor.
func resolve(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		return ""
	}
	u, err := url.Parse(ref)
	if err != nil {
		return ref // left for validation to refuse
	}
	if u.IsAbs() || base == nil {
		return ref
	}
	return base.ResolveReference(u).String()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if strings.TrimSpace(s) != "" {
			return s
		}
	}
	return ""
}

// firstTime returns the first of ts that is set, else fallback.
func firstTime(fallback time.Time, ts ...*time.Time) time.Time {
	for _, t := range ts {
		if t != nil && !t.IsZero() {
			return *t
		}
	}
	return fallback
}
