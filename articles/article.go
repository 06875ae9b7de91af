package articles

import (
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Article is one story on the site.
type Article struct {
	// ID names the article in the API and in digest requests: IDOf(URL),
	// filled in when an article is read back from the store.
	ID          string    `json:"id,omitempty"`
	URL         string    `json:"url"`
	Title       string    `json:"title"`
	Summary     string    `json:"summary,omitempty"`
	PublishedAt time.Time `json:"published_at"`
	Author      string    `json:"author,omitempty"`
	Section     string    `json:"section,omitempty"`
	ImageURL    string    `json:"image_url,omitempty"`
	// ImageAlt describes the image for readers who do not see it (the
	// alt text of the email's <img>); empty, emails use the title.
	ImageAlt    string   `json:"image_alt,omitempty"`
	Newsletters []string `json:"newsletters,omitempty"`
	// Lead puts the article first in a digest, before the others.
	Lead bool `json:"lead,omitempty"`
	// Position orders the articles of a digest after the lead ones: 1
	// first; 0 (none) after every positioned one, newest first.
	Position int `json:"position,omitempty"`
}

// Limits on an article's fields. Normalize cuts text fields to their limit;
// Validate refuses URLs over theirs.
const (
	MaxURLLen      = 2048 // bytes, url and image_url
	MaxTitleLen    = 500  // bytes
	MaxSummaryLen  = 2000 // bytes
	MaxAuthorLen   = 200  // bytes
	MaxSectionLen  = 200  // bytes
	MaxImageAltLen = 500  // bytes
)

// Normalize trims every field; collapses runs of whitespace (CR and LF
// included) in the title, author, section and image alt text to single
// spaces, so none of them can carry a header line into an email; strips
// control characters and invalid UTF-8; cuts the title, summary, author,
// section and alt text to their limits without splitting a character;
// keeps the publication time in UTC at millisecond precision; and drops
// duplicate newsletter ids.
func (a *Article) Normalize() {
	a.URL = strings.TrimSpace(a.URL)
	a.ImageURL = strings.TrimSpace(a.ImageURL)
	a.Title = truncate(oneLine(a.Title), MaxTitleLen)
	a.Author = truncate(oneLine(a.Author), MaxAuthorLen)
	a.Section = truncate(oneLine(a.Section), MaxSectionLen)
	a.ImageAlt = truncate(oneLine(a.ImageAlt), MaxImageAltLen)
	a.Summary = truncate(paragraphs(a.Summary), MaxSummaryLen)
	if !a.PublishedAt.IsZero() {
		a.PublishedAt = a.PublishedAt.UTC().Truncate(time.Millisecond)
	}
	a.Newsletters = uniq(a.Newsletters)
}

// oneLine returns s with every run of white space, line breaks included,
// turned into one space and control characters removed.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(clean(s), unicode.IsSpace), " ")
}

// paragraphs returns s with line breaks kept as single LFs (CRLF and CR
// become LF, blank lines collapse), other white space collapsed to one
// space and control characters removed.
func paragraphs(s string) string {
	s = strings.NewReplacer("\r\n", "\n", "\r", "\n").Replace(s)
	var lines []string
	for _, l := range strings.Split(s, "\n") {
		if l = oneLine(l); l != "" {
			lines = append(lines, l)
		}
	}
	return strings.Join(lines, "\n")
}

// clean drops invalid UTF-8 and control characters other than white space.
func clean(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) && !unicode.IsSpace(r) {
			return -1
		}
		return r
	}, strings.ToValidUTF8(s, ""))
}

// truncate cuts s to at most max bytes without splitting a UTF-8 sequence.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	i := max
	for i > 0 && !utf8.RuneStart(s[i]) {
		i--
	}
	return strings.TrimSpace(s[:i])
}

// uniq returns ids, trimmed, without empty or repeated ids, in first-seen
// order, as a new slice.
func uniq(ids []string) []string {
	var out []string
	for _, id := range ids {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}
