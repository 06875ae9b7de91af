package articles_test

import (
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/articles"
)

func TestValidate(t *testing.T) {
	good := func(edit func(a *articles.Article)) articles.Article {
		a := articles.Article{URL: "https://news.example.org/2025/03/pi-day", Title: "Pi day",
			PublishedAt: t0, Newsletters: []string{"daily"}}
		edit(&a)
		return a
	}
	tests := []struct {
		name  string
		a     articles.Article
		index int
		field string // "" when valid
	}{
		{"minimal", good(func(a *articles.Article) { a.Newsletters = nil }), 0, ""},
		{"full", good(func(a *articles.Article) {
			a.Summary, a.Author, a.Section = "Sum", "Ann", "Science"
			a.ImageURL, a.Newsletters = "http://cdn.example.org/pi.jpg", []string{"daily", "weekly-2"}
		}), 0, ""},
		{"upper-case scheme", good(func(a *articles.Article) { a.URL = "HTTPS://News.Example.org/x" }), 0, ""},
		{"javascript url", good(func(a *articles.Article) { a.URL = "javascript:alert(1)" }), 0, "articles[0].url"},
		{"javascript url with slashes", good(func(a *articles.Article) { a.URL = "javascript://news.example.org/%0aalert(1)" }), 0, "articles[0].url"},
		{"data url", good(func(a *articles.Article) { a.URL = "data:text/html,<script>alert(1)</script>" }), 1, "articles[1].url"},
		{"ftp url", good(func(a *articles.Article) { a.URL = "ftp://news.example.org/pi" }), 2, "articles[2].url"},
		{"relative url", good(func(a *articles.Article) { a.URL = "/2025/03/pi-day" }), 0, "articles[0].url"},
		{"protocol-relative url", good(func(a *articles.Article) { a.URL = "//news.example.org/pi" }), 0, "articles[0].url"},
		{"empty url", good(func(a *articles.Article) { a.URL = "" }), 3, "articles[3].url"},
		{"no host", good(func(a *articles.Article) { a.URL = "https:///pi" }), 0, "articles[0].url"},
		{"space in url", good(func(a *articles.Article) { a.URL = "https://news.example.org/pi day" }), 0, "articles[0].url"},
		{"credentials in url", good(func(a *articles.Article) { a.URL = "https://bank.example@evil.example/" }), 0, "articles[0].url"},
		{"url too long", good(func(a *articles.Article) {
			a.URL = "https://news.example.org/" + strings.Repeat("a", articles.MaxURLLen)
		}), 0, "articles[0].url"},
		{"missing title", good(func(a *articles.Article) { a.Title = "" }), 4, "articles[4].title"},
		{"zero date", good(func(a *articles.Article) { a.PublishedAt = time.Time{} }), 0, "articles[0].published_at"},
		{"javascript image", good(func(a *articles.Article) { a.ImageURL = "javascript:alert(1)" }), 0, "articles[0].image_url"},
		{"data image", good(func(a *articles.Article) { a.ImageURL = "data:image/png;base64,AAAA" }), 0, "articles[0].image_url"},
		{"negative position", good(func(a *articles.Article) { a.Position = -1 }), 0, "articles[0].position"},
		{"position past the last", good(func(a *articles.Article) { a.Position = articles.MaxPosition + 1 }), 0, "articles[0].position"},
		{"upper-case newsletter id", good(func(a *articles.Article) { a.Newsletters = []string{"Daily"} }), 0, "articles[0].newsletters"},
		{"newsletter id with space", good(func(a *articles.Article) { a.Newsletters = []string{"daily", "a b"} }), 0, "articles[0].newsletters"},
		{"newsletter id too long", good(func(a *articles.Article) { a.Newsletters = []string{strings.Repeat("a", 65)} }), 0, "articles[0].newsletters"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.a.Validate(tt.index)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			var e *newsletter.Error
			if !errors.As(err, &e) {
				t.Fatalf("Validate = %v, want a *newsletter.Error", err)
			}
			if e.Code != newsletter.EINVALIDARTICLE || e.Field != tt.field || e.Message == "" {
				t.Fatalf("Validate = code %q field %q message %q, want code %q field %q",
					e.Code, e.Field, e.Message, newsletter.EINVALIDARTICLE, tt.field)
			}
		})
	}
}

func TestValidateSchemeMessage(t *testing.T) {
	a := article("javascript:alert(document.cookie)", "x", t0)
	err := a.Validate(0)
	const want = "invalid_article: Only http and https URLs are accepted. (articles[0].url)"
	if err == nil || err.Error() != want {
		t.Fatalf("Validate = %v, want %s", err, want)
	}
}

func TestNormalize(t *testing.T) {
	a := articles.Article{
		URL:         "  https://news.example.org/x \n",
		Title:       " Breaking:\r\nBcc: x@y\x00\x1b[31m  news\u2028more ",
		Summary:     "First line.\r\n\r\n  Second\tline.\x07",
		Author:      "Ann\nCc: z@y",
		Section:     "\tScience\r",
		ImageURL:    " https://cdn.example.org/x.jpg ",
		PublishedAt: time.Date(2025, 3, 14, 11, 0, 0, 123456789, time.FixedZone("EET", 2*3600)),
		Newsletters: []string{"daily", "weekly", "daily", " weekly "},
	}
	a.Normalize()
	want := articles.Article{
		URL:         "https://news.example.org/x",
		Title:       "Breaking: Bcc: x@y[31m news more",
		Summary:     "First line.\nSecond line.",
		Author:      "Ann Cc: z@y",
		Section:     "Science",
		ImageURL:    "https://cdn.example.org/x.jpg",
		PublishedAt: time.Date(2025, 3, 14, 9, 0, 0, 123000000, time.UTC),
		Newsletters: []string{"daily", "weekly"},
	}
	if diff := cmp.Diff(want, a); diff != "" {
		t.Fatalf("Normalize (-want +got):\n%s", diff)
	}
}

func TestNormalizeTruncatesOnCharacterBoundary(t *testing.T) {
	a := article("https://news.example.org/x", "t"+strings.Repeat("é", 400), t0)
	a.Summary = "s" + strings.Repeat("é", 1500) // 3001 bytes; byte 2000 is inside an é
	a.Normalize()
	if n := len(a.Summary); n != 1999 || !utf8.ValidString(a.Summary) {
		t.Fatalf("summary: %d bytes, valid UTF-8 %v; want 1999, true", n, utf8.ValidString(a.Summary))
	}
	if n := len(a.Title); n != articles.MaxTitleLen-1 || !utf8.ValidString(a.Title) {
		t.Fatalf("title: %d bytes, valid UTF-8 %v; want %d, true", n, utf8.ValidString(a.Title), articles.MaxTitleLen-1)
	}
}
