package newsletter_test

import (
	"errors"
	"github.com/google/go-cmp/cmp"
	"slices"
	"strings"
	"testing"

	"newsletter"
)

// fullNewsletter returns a newsletter with every field set to a good value.
func fullNewsletter() newsletter.Newsletter {
	return newsletter.Newsletter{ID: "daily-brief", Name: "Daily Brief", From: "Daily Brief <news@example.org>",
		MaxArticles: 10, Schedule: "0 7 * * *", Timezone: "Europe/Kyiv", MaxLateness: "1h",
		Feeds: []string{"https://example.org/feed.xml"}}
}

func TestNewsletterValidate(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(n *newsletter.Newsletter)
		code  string // "" when valid
		field string
	}{
		{"full", func(n *newsletter.Newsletter) {}, "", ""},
		{"minimal", func(n *newsletter.Newsletter) { *n = newsletter.Newsletter{ID: "d", Name: "D"} }, "", ""},
		{"id 64 chars", func(n *newsletter.Newsletter) { n.ID = strings.Repeat("a", 64) }, "", ""},
		{"max_articles 0 takes default", func(n *newsletter.Newsletter) { n.MaxArticles = 0 }, "", ""},
		{"max_articles 100", func(n *newsletter.Newsletter) { n.MaxArticles = 100 }, "", ""},
		{"name padded", func(n *newsletter.Newsletter) { n.Name = "  Daily  " }, "", ""},
		{"plain from", func(n *newsletter.Newsletter) { n.From = "news@example.org" }, "", ""},
		{"postal address", func(n *newsletter.Newsletter) { n.PostalAddress = "News Ltd, 1 Main Street, Kyiv" }, "", ""},
		{"postal address 500", func(n *newsletter.Newsletter) { n.PostalAddress = strings.Repeat("a", 500) }, "", ""},
		{"postal address 501", func(n *newsletter.Newsletter) { n.PostalAddress = strings.Repeat("a", 501) }, newsletter.EINVALIDNEWSLETTER, "postal_address"},
		{"postal address two lines", func(n *newsletter.Newsletter) { n.PostalAddress = "News Ltd\nKyiv" }, newsletter.EINVALIDNEWSLETTER, "postal_address"},
		{"branded", func(n *newsletter.Newsletter) {
			n.LogoURL, n.AccentColor, n.FooterText = "https://news.example/logo.png", "#A4000F", "Since 1901"
		}, "", ""},
		{"logo over http", func(n *newsletter.Newsletter) { n.LogoURL = "http://news.example/logo.png" }, newsletter.EINVALIDNEWSLETTER, "logo_url"},
		{"accent not hex", func(n *newsletter.Newsletter) { n.AccentColor = "red" }, newsletter.EINVALIDNEWSLETTER, "accent_color"},
		{"accent too light", func(n *newsletter.Newsletter) { n.AccentColor = "#ffcc00" }, newsletter.EINVALIDNEWSLETTER, "accent_color"},
		{"footer text two lines", func(n *newsletter.Newsletter) { n.FooterText = "a\nb" }, newsletter.EINVALIDNEWSLETTER, "footer_text"},

		{"id capitals", func(n *newsletter.Newsletter) { n.ID = "Daily" }, newsletter.EINVALIDID, "id"},
		{"id too long", func(n *newsletter.Newsletter) { n.ID = strings.Repeat("a", 65) }, newsletter.EINVALIDID, "id"},
		{"id empty", func(n *newsletter.Newsletter) { n.ID = "" }, newsletter.EINVALIDID, "id"},
		{"id underscore", func(n *newsletter.Newsletter) { n.ID = "daily_brief" }, newsletter.EINVALIDID, "id"},
		{"id trailing newline", func(n *newsletter.Newsletter) { n.ID = "daily\n" }, newsletter.EINVALIDID, "id"},
		{"name empty", func(n *newsletter.Newsletter) { n.Name = "" }, newsletter.EINVALIDNEWSLETTER, "name"},
		{"name blank", func(n *newsletter.Newsletter) { n.Name = " \t " }, newsletter.EINVALIDNEWSLETTER, "name"},
		{"name newline", func(n *newsletter.Newsletter) { n.Name = "Daily\nBrief" }, newsletter.EINVALIDNEWSLETTER, "name"},
		{"name too long", func(n *newsletter.Newsletter) { n.Name = strings.Repeat("n", 201) }, newsletter.EINVALIDNEWSLETTER, "name"},
		{"description too long", func(n *newsletter.Newsletter) { n.Description = strings.Repeat("d", 2001) }, newsletter.EINVALIDNEWSLETTER, "description"},
		{"from not an address", func(n *newsletter.Newsletter) { n.From = "Daily Brief" }, newsletter.EINVALIDNEWSLETTER, "from"},
		{"from header injection", func(n *newsletter.Newsletter) { n.From = "news@example.org\r\nBcc: x@example.org" }, newsletter.EINVALIDNEWSLETTER, "from"},
		{"max_articles 101", func(n *newsletter.Newsletter) { n.MaxArticles = 101 }, newsletter.EINVALIDNEWSLETTER, "max_articles"},
		{"max_articles -1", func(n *newsletter.Newsletter) { n.MaxArticles = -1 }, newsletter.EINVALIDNEWSLETTER, "max_articles"},
		{"schedule four fields", func(n *newsletter.Newsletter) { n.Schedule = "0 7 * *" }, newsletter.EINVALIDNEWSLETTER, "schedule"},
		{"schedule bad hour", func(n *newsletter.Newsletter) { n.Schedule = "0 25 * * *" }, newsletter.EINVALIDNEWSLETTER, "schedule"},
		{"schedule TZ prefix", func(n *newsletter.Newsletter) { n.Schedule = "TZ=Europe/Kyiv 0 7 * * *" }, newsletter.EINVALIDNEWSLETTER, "schedule"},
		{"schedule CRON_TZ prefix", func(n *newsletter.Newsletter) { n.Schedule = "CRON_TZ=UTC 0 7 * * *" }, newsletter.EINVALIDNEWSLETTER, "schedule"},
		{"schedule descriptor", func(n *newsletter.Newsletter) { n.Schedule = "@daily" }, newsletter.EINVALIDNEWSLETTER, "schedule"},
		{"schedule every second", func(n *newsletter.Newsletter) { n.Schedule = "@every 1s" }, newsletter.EINVALIDNEWSLETTER, "schedule"},
		{"schedule six fields", func(n *newsletter.Newsletter) { n.Schedule = "0 0 7 * * *" }, newsletter.EINVALIDNEWSLETTER, "schedule"},
		{"timezone unknown", func(n *newsletter.Newsletter) { n.Timezone = "Mars/Olympus_Mons" }, newsletter.EINVALIDNEWSLETTER, "timezone"},
		{"max_lateness not a duration", func(n *newsletter.Newsletter) { n.MaxLateness = "soon" }, newsletter.EINVALIDNEWSLETTER, "max_lateness"},
		{"max_lateness negative", func(n *newsletter.Newsletter) { n.MaxLateness = "-1h" }, newsletter.EINVALIDNEWSLETTER, "max_lateness"},
		{"max_lateness zero", func(n *newsletter.Newsletter) { n.MaxLateness = "0s" }, newsletter.EINVALIDNEWSLETTER, "max_lateness"},
		{"feed javascript", func(n *newsletter.Newsletter) { n.Feeds = []string{"javascript:alert(1)"} }, newsletter.EINVALIDNEWSLETTER, "feeds"},
		{"feed ftp", func(n *newsletter.Newsletter) { n.Feeds = []string{"ftp://example.org/feed.xml"} }, newsletter.EINVALIDNEWSLETTER, "feeds"},
		{"feed relative", func(n *newsletter.Newsletter) { n.Feeds = []string{"/feed.xml"} }, newsletter.EINVALIDNEWSLETTER, "feeds"},
		{"second feed bad", func(n *newsletter.Newsletter) { n.Feeds = append(n.Feeds, "feed.xml") }, newsletter.EINVALIDNEWSLETTER, "feeds"},
		{"language uk", func(n *newsletter.Newsletter) { n.Language = "uk" }, "", ""},
		{"language unset", func(n *newsletter.Newsletter) { n.Language = "" }, "", ""},
		{"language ru", func(n *newsletter.Newsletter) { n.Language = "ru" }, newsletter.EINVALIDNEWSLETTER, "language"},
		{"language upper case", func(n *newsletter.Newsletter) { n.Language = "UK" }, newsletter.EINVALIDNEWSLETTER, "language"},
		{"too many feeds", func(n *newsletter.Newsletter) { n.Feeds = slices.Repeat(n.Feeds, 51) }, newsletter.EINVALIDNEWSLETTER, "feeds"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := fullNewsletter()
			tc.edit(&n)
			n.Normalize()
			err := n.Validate()
			var e *newsletter.Error
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Validate(%+v) = %v, want nil", n, err)
				}
				return
			}
			if !errors.As(err, &e) || e.Code != tc.code || e.Field != tc.field || e.Message == "" {
				t.Fatalf("Validate(%+v) = %#v, want code %q field %q", n, err, tc.code, tc.field)
			}
		})
	}
}

func TestNewsletterNormalize(t *testing.T) {
	n := newsletter.Newsletter{ID: "d", Name: " Daily ", Description: " About ", From: " news@example.org ", Schedule: "0 7 * * *"}
	n.Normalize()
	want := newsletter.Newsletter{ID: "d", Name: "Daily", Description: "About", From: "news@example.org",
		MaxArticles: newsletter.DefaultMaxArticles, Schedule: "0 7 * * *", MaxLateness: "1h", Language: "en"}
	if diff := cmp.Diff(want, n); diff != "" { // cmp compares times with Time.Equal
		t.Errorf("Normalize (-want +got):\n%s", diff)
	}
}
