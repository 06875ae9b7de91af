package articles

import (
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"newsletter"
)

// MaxBatch is the most articles one Upsert accepts.
const MaxBatch = 1000

var validNewsletterID = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// Validate reports the first field of a that is not acceptable, as an
// EINVALIDARTICLE error whose Field names the article by its index in the
// batch, e.g. "articles[1].url". It expects a normalized article.
func (a *Article) Validate(index int) error {
	checks := []struct {
		field string
		fail  string
	}{
		{"url", checkURL(a.URL, true)},
		{"title", checkRequired(a.Title, "An article needs a title.")},
		{"published_at", checkPublished(a)},
		{"image_url", checkURL(a.ImageURL, false)},
		{"newsletters", checkIDs(a.Newsletters)},
		{"position", checkPosition(a.Position)},
	}
	for _, c := range checks {
		if c.fail != "" {
			return invalid(index, c.field, c.fail)
		}
	}
	return nil
}

func invalid(index int, field, message string) error {
	return newsletter.FieldError(newsletter.EINVALIDARTICLE,
		"articles["+strconv.Itoa(index)+"]."+field, message)
}

func checkRequired(s, message string) string {
	if s == "" {
		return message
	}
	return ""
}

func checkPublished(a *Article) string {
	if a.PublishedAt.IsZero() {
		return "An article needs a publication time (published_at, RFC 3339)."
	}
	return ""
}

func checkURL(s string, required bool) string {
	switch {
	case s == "" && required:
		return "An article needs a URL."
	case s == "":
		return ""
	case len(s) > MaxURLLen:
		return "A URL is at most " + strconv.Itoa(MaxURLLen) + " bytes."
	case strings.IndexFunc(s, invalidURLRune) >= 0:
		return "A URL must not contain spaces or control characters."
	case !isWebURL(s):
		return "Only http and https URLs are accepted."
	}
	if u, _ := url.Parse(s); u.User != nil {
		return "A URL must not carry a user name or password."
	}
	return ""
}

func invalidURLRune(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// isWebURL reports whether s is an absolute http or https URL with a host.
func isWebURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}

func checkIDs(ids []string) string {
	for _, id := range ids {
		if !validNewsletterID.MatchString(id) {
			return "A newsletter id is 1 to 64 lower-case letters, digits or hyphens."
		}
	}
	return ""
}

// prepare returns a normalized, validated copy of batch in which every
// article names its newsletters: allNewsletters when it named none. An
// article naming a newsletter outside allNewsletters is invalid.
func prepare(batch []Article, allNewsletters []string) ([]Article, error) {
	if len(batch) > MaxBatch {
		return nil, newsletter.FieldError(newsletter.EINVALIDARTICLE, "articles",
			"At most "+strconv.Itoa(MaxBatch)+" articles at a time.")
	}
	out := make([]Article, len(batch))
	for i, a := range batch {
		a.Normalize()
		if len(a.Newsletters) == 0 {
			a.Newsletters = uniq(allNewsletters)
		}
		if err := a.Validate(i); err != nil {
			return nil, err
		}
		for _, id := range a.Newsletters {
			if !slices.Contains(allNewsletters, id) {
				return nil, invalid(i, "newsletters", "There is no newsletter "+strconv.Quote(id)+".")
			}
		}
		out[i] = a
	}
	return out, nil
}

// MaxPosition is the highest position an article may have.
const MaxPosition = 1000

func checkPosition(p int) string {
	if p < 0 || p > MaxPosition {
		return "A position is from 1 (first after the lead) to " + strconv.Itoa(MaxPosition) + "; 0 or none orders by time."
	}
	return ""
}
