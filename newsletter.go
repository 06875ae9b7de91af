package newsletter

import (
	"net/mail"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// Newsletter is one list that readers subscribe to and editors send: its
// name and sender, the schedule and feeds that fill its digests, and the
// most articles a digest carries.
type Newsletter struct {
	ID          string   `json:"id"`
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	From        string   `json:"from,omitempty"`
	MaxArticles int      `json:"max_articles"`
	Schedule    string   `json:"schedule,omitempty"`
	Timezone    string   `json:"timezone,omitempty"`
	MaxLateness string   `json:"max_lateness,omitempty"`
	Feeds       []string `json:"feeds,omitempty"`
	// Public says whether the newsletter has pages on the site: a page
	// with its archive, a feed of its digests, web views. nil is true.
	Public *bool `json:"public,omitempty"`
	// Language is the language of the newsletter's emails and pages:
	// LanguageEnglish or LanguageUkrainian; "" (a newsletter saved before
	// it had one) is DefaultLanguage.
	Language string `json:"language,omitempty"`
	// PostalAddress is the sender's postal address that the footer of the
	// newsletter's digests and welcome emails prints; "" is the service's
	// (NEWSLETTER_POSTAL_ADDRESS).
	PostalAddress string `json:"postal_address,omitempty"`
	// Branding of its emails (branding.go): a logo in the masthead, an
	// accent colour, and a line of its own in the footer.
	LogoURL     string `json:"logo_url,omitempty"`
	AccentColor string `json:"accent_color,omitempty"`
	FooterText  string `json:"footer_text,omitempty"`
	// DigestTemplate is the HTML template of its digests in place of the
	// service's (templates/email/digest.html.tmpl); "" is the service's.
	// Package digests checks that it parses and renders (CheckTemplate).
	DigestTemplate string    `json:"digest_template,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"updated_at"`
}

// IsPublic reports whether the newsletter has public pages (Public unset
// counts as true).
func (n *Newsletter) IsPublic() bool { return n.Public == nil || *n.Public }

// The languages a newsletter can be written in, by ISO 639-1 code.
const (
	LanguageEnglish   = "en"
	LanguageUkrainian = "uk"
	DefaultLanguage   = LanguageEnglish
)

// IsLanguage reports whether code names a language a newsletter can be
// written in.
func IsLanguage(code string) bool {
	return code == LanguageEnglish || code == LanguageUkrainian
}

// Lang returns the newsletter's language, DefaultLanguage when it names
// none.
func (n *Newsletter) Lang() string {
	if n.Language == "" {
		return DefaultLanguage
	}
	return n.Language
}

// Limits on a newsletter's fields.
const (
	DefaultMaxArticles = 10
	MaxMaxArticles     = 100
	maxNameLen         = 200
	maxDescriptionLen  = 2000
	maxPostalLen       = 500
	maxFeeds           = 50
	// MaxDigestTemplateLen is the most bytes a digest template may have.
	MaxDigestTemplateLen = 64 << 10
)

var validNewsletterID = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

// ValidateID reports whether id can name a newsletter: 1 to 64 lower-case
// letters, digits or hyphens. Every part that takes a newsletter id from
// outside checks it with this one rule.
func ValidateID(id string) error {
	if !validNewsletterID.MatchString(id) {
		return FieldError(EINVALIDID, "id",
			"A newsletter id is 1 to 64 lower-case letters, digits or hyphens.")
	}
	return nil
}

// Normalize fills defaults and trims the newsletter's text fields.
func (n *Newsletter) Normalize() {
	n.Name = strings.TrimSpace(n.Name)
	n.Description = strings.TrimSpace(n.Description)
	n.From = strings.TrimSpace(n.From)
	n.PostalAddress = strings.TrimSpace(n.PostalAddress)
	n.normalizeBranding()
	n.DigestTemplate = strings.TrimSpace(n.DigestTemplate)
	n.Language = strings.TrimSpace(n.Language)
	if n.Language == "" {
		n.Language = DefaultLanguage
	}
	if n.MaxArticles == 0 {
		n.MaxArticles = DefaultMaxArticles
	}
	if n.MaxLateness == "" && n.Schedule != "" {
		n.MaxLateness = "1h"
	}
}

// Validate reports the first field of n that is not acceptable.
func (n *Newsletter) Validate() error {
	if err := ValidateID(n.ID); err != nil {
		return err
	}
	checks := []struct {
		field string
		fail  string
	}{
		{"name", n.checkName()},
		{"description", checkLen(n.Description, maxDescriptionLen)},
		{"from", checkFrom(n.From)},
		{"max_articles", checkRange(n.MaxArticles, 1, MaxMaxArticles)},
		{"schedule", checkSchedule(n.Schedule)},
		{"timezone", checkTimezone(n.Timezone)},
		{"max_lateness", checkDuration(n.MaxLateness)},
		{"feeds", checkFeeds(n.Feeds)},
		{"language", checkLanguage(n.Language)},
		{"postal_address", checkPostal(n.PostalAddress)},
		{"logo_url", checkLogoURL(n.LogoURL)},
		{"accent_color", checkAccent(n.AccentColor)},
		{"footer_text", checkFooterText(n.FooterText)},
		{"digest_template", checkDigestTemplate(n.DigestTemplate)},
	}
	for _, c := range checks {
		if c.fail != "" {
			return FieldError(EINVALIDNEWSLETTER, c.field, c.fail)
		}
	}
	return nil
}

func (n *Newsletter) checkName() string {
	if n.Name == "" {
		return "A newsletter needs a name."
	}
	if strings.ContainsAny(n.Name, "\r\n") {
		return "A newsletter name is one line."
	}
	return checkLen(n.Name, maxNameLen)
}

func checkPostal(addr string) string {
	if strings.ContainsAny(addr, "\r\n") {
		return "A postal address is one line; separate its parts with commas."
	}
	return checkLen(addr, maxPostalLen)
}

func checkDigestTemplate(src string) string {
	if len(src) > MaxDigestTemplateLen {
		return "A digest template is at most " + strconv.Itoa(MaxDigestTemplateLen>>10) + " KB."
	}
	return ""
}

func checkLen(s string, max int) string {
	if len(s) > max {
		return "At most " + strconv.Itoa(max) + " characters."
	}
	return ""
}

func checkFrom(from string) string {
	if from == "" {
		return ""
	}
	if strings.ContainsAny(from, "\r\n") {
		return "The sender is one line."
	}
	if _, err := mail.ParseAddress(from); err != nil {
		return `The sender must look like "Daily Brief <news@example.org>".`
	}
	return ""
}

func checkRange(v, lo, hi int) string {
	if v < lo || v > hi {
		return "Must be from " + strconv.Itoa(lo) + " to " + strconv.Itoa(hi) + "."
	}
	return ""
}

func checkLanguage(code string) string {
	if code != "" && !IsLanguage(code) {
		return `A language is "en" (English) or "uk" (Ukrainian).`
	}
	return ""
}

func checkSchedule(s string) string {
	if s == "" {
		return ""
	}
	// ParseStandard also takes descriptors such as "@every 1s" and a TZ=
	// prefix; the contract allows five fields only.
	if _, err := cron.ParseStandard(s); err != nil || len(strings.Fields(s)) != 5 ||
		strings.HasPrefix(s, "TZ=") || strings.HasPrefix(s, "CRON_TZ=") {
		return `A schedule is a five-field cron expression such as "0 7 * * *"; the time zone goes in "timezone".`
	}
	return ""
}

func checkTimezone(tz string) string {
	if tz == "" {
		return ""
	}
	if _, err := time.LoadLocation(tz); err != nil {
		return `A timezone is an IANA name such as "Europe/Kyiv".`
	}
	return ""
}

func checkDuration(d string) string {
	if d == "" {
		return ""
	}
	if v, err := time.ParseDuration(d); err != nil || v <= 0 {
		return `A duration such as "1h" or "30m".`
	}
	return ""
}

func checkFeeds(feeds []string) string {
	if len(feeds) > maxFeeds {
		return "At most " + strconv.Itoa(maxFeeds) + " feeds."
	}
	for _, f := range feeds {
		if !IsWebURL(f) {
			return "Feeds are http or https URLs."
		}
	}
	return ""
}

// IsWebURL reports whether s is an absolute http or https URL with a host.
func IsWebURL(s string) bool {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return false
	}
	return u.Scheme == "http" || u.Scheme == "https"
}
