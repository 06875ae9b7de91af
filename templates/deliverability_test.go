package templates

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"newsletter/i18n"
)

// inboxEmails are the emails that readers get: what inboxes judge the
// service by.
var inboxEmails = []string{"confirm", "welcome", "digest", "address_confirm", "address_notice"}

// TestEmailsForOutlookAndDarkMode checks the HTML of the confirmation,
// welcome, digest and change-of-address emails: Outlook for Windows gets a 600 px table in a
// conditional comment, no client gets max-width (Outlook ignores it), a
// button is a table cell with its own background, and the document says
// that it has a dark scheme and gives it.
func TestEmailsForOutlookAndDarkMode(t *testing.T) {
	set := mustLoad(t)
	for _, name := range inboxEmails {
		r, err := set.RenderEmail(name, samples[name])
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{
			`<!--[if mso]><table role="presentation" width="600"`, `<![endif]-->`,
			`<meta name="color-scheme" content="light dark">`, `<meta name="supported-color-schemes" content="light dark">`,
			`@media (prefers-color-scheme: dark)`,
		} {
			if !strings.Contains(r.HTML, want) {
				t.Errorf("%s: HTML lacks %s", name, want)
			}
		}
		for _, bad := range []string{"max-width", "inline-block"} {
			if strings.Contains(r.HTML, bad) {
				t.Errorf("%s: HTML has %s", name, bad)
			}
		}
	}
	for name, link := range map[string]string{"confirm": "https://news.example/confirm?token=T",
		"address_confirm": "https://news.example/preferences/address?token=T",
		"address_notice":  "https://news.example/preferences/address/cancel?token=T"} {
		r, err := set.RenderEmail(name, samples[name])
		if err != nil {
			t.Fatal(err)
		}
		button := regexp.MustCompile(`<td class="nl-button"[^>]* bgcolor="#[0-9a-f]{6}"[^>]*><a class="nl-button-link" href="` + regexp.QuoteMeta(link) + `"`)
		if !button.MatchString(r.HTML) {
			t.Errorf("%s: the button is not a table cell with a background colour:\n%s", name, r.HTML)
		}
	}
}

// TestPreheaders checks the hidden line after the subject: the catalog's
// for confirmation, welcome and change-of-address emails, in each language, and the digest's
// Preheader; never in the text part.
func TestPreheaders(t *testing.T) {
	set := mustLoad(t)
	for _, l := range i18n.All() {
		for name, want := range map[string]string{
			"confirm":         l.T("email.confirm.preheader"),
			"welcome":         l.T("email.welcome.preheader", "&lt;b&gt;Daily&lt;/b&gt;"),
			"digest":          "&lt;i&gt;",
			"address_confirm": l.T("email.address_confirm.preheader"),
			"address_notice":  l.T("email.address_notice.preheader"),
		} {
			r, err := set.RenderEmailIn(l, name, samples[name])
			if err != nil {
				t.Fatal(err)
			}
			got := preheaderOf(r.HTML)
			if got != want {
				t.Errorf("%s in %s: preheader %q, want %q", name, l, got, want)
			}
			if strings.Contains(r.Text, "nl-preheader") {
				t.Errorf("%s in %s: the text part has the preheader", name, l)
			}
		}
	}
}

var preheaderDiv = regexp.MustCompile(`<div class="nl-preheader" style="display:none;[^"]*mso-hide:all;">([^<]*)</div>`)

// preheaderOf returns the hidden preheader of an email's HTML, "" for none.
func preheaderOf(html string) string {
	if m := preheaderDiv.FindStringSubmatch(html); m != nil {
		return m[1]
	}
	return ""
}

// TestFooterPostalAddress checks that welcome and digest emails print the
// postal address they are given, escaped in HTML, in both parts.
func TestFooterPostalAddress(t *testing.T) {
	set := mustLoad(t)
	for _, name := range []string{"welcome", "digest"} {
		r, err := set.RenderEmail(name, samples[name])
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(r.HTML, "&lt;m&gt; 1 Main Street, Kyiv") || !strings.Contains(r.Text, "<m> 1 Main Street, Kyiv") {
			t.Errorf("%s: the postal address is missing from a part:\n%s\n%s", name, r.Text, r.HTML)
		}
	}
}

// TestDigestImageAlt: an article's image carries its alt text, escaped.
func TestDigestImageAlt(t *testing.T) {
	r, err := mustLoad(t).RenderEmail("digest", samples["digest"])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(r.HTML, `<img src="https://news.example/a.jpg" alt="&lt;m&gt;"`) {
		t.Errorf("the image lacks its alt text:\n%s", r.HTML)
	}
}

// darkCard is the card's background in the dark scheme, that text is read on.
const darkCard = "#1e1e1e"

var darkBlock = regexp.MustCompile(`(?s)@media \(prefers-color-scheme: dark\) \{(.*?)\n\}`)

// TestDarkModeContrast checks every colour of the dark scheme of the inbox
// emails against the dark card (the button's text against the button) for
// a contrast of at least 4.5:1 (WCAG 2.2, 1.4.3).
func TestDarkModeContrast(t *testing.T) {
	for _, name := range inboxEmails {
		file := "email/" + name + ".html.tmpl"
		raw, err := fs.ReadFile(embedded, file)
		if err != nil {
			t.Fatal(err)
		}
		m := darkBlock.FindSubmatch(raw)
		if m == nil {
			t.Fatalf("%s has no dark scheme", file)
		}
		colors := 0
		for _, rule := range strings.Split(string(m[1]), "}") {
			sel, decls, ok := strings.Cut(rule, "{")
			color := hexColor.FindString(valueOf(decls, "color"))
			if !ok || color == "" {
				continue
			}
			colors++
			bg := darkCard
			if strings.Contains(sel, "nl-button-link") {
				bg = hexColor.FindString(darkValue(string(m[1]), ".nl-button", "background-color"))
			}
			if c := contrast(color, bg); c < 4.5 {
				t.Errorf("%s: %s is %s on %s in the dark, contrast %.2f:1, want at least 4.5:1", file, strings.TrimSpace(sel), color, bg, c)
			}
		}
		if colors == 0 {
			t.Errorf("%s: the dark scheme sets no text colour", file)
		}
	}
}

// valueOf returns the value of property prop among decls.
func valueOf(decls, prop string) string {
	for d := range strings.SplitSeq(decls, ";") {
		if k, v, ok := strings.Cut(d, ":"); ok && strings.TrimSpace(k) == prop {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// darkValue returns prop of the rule of sheet whose selector is sel.
func darkValue(sheet, sel, prop string) string {
	for _, rule := range strings.Split(sheet, "}") {
		if s, decls, ok := strings.Cut(rule, "{"); ok && strings.TrimSpace(s) == sel {
			return valueOf(decls, prop)
		}
	}
	return ""
}

func mustLoad(t *testing.T) *Set {
	t.Helper()
	set, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// TestBranding: a newsletter's logo replaces its name in the masthead
// (with the name as alt text), its accent colours section labels (digest)
// and links (welcome), and its footer text shows in both parts.
func TestBranding(t *testing.T) {
	set := mustLoad(t)
	brand := map[string]any{"LogoURL": "https://news.example/logo.png", "Accent": "#0a5c36", "FooterText": "<m> since 1901"}
	for name, accented := range map[string]string{"digest": `class="nl-section" style="color:#0a5c36;"`, "welcome": `style="color:#0a5c36;">`} {
		data := map[string]any{}
		for k, v := range samples[name].(map[string]any) {
			data[k] = v
		}
		for k, v := range brand {
			data[k] = v
		}
		if name == "welcome" {
			data["PreferencesURL"] = "https://news.example/preferences?token=P"
		}
		r, err := set.RenderEmail(name, data)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{`<img src="https://news.example/logo.png" alt="&lt;b&gt;Daily&lt;/b&gt;"`, accented, "&lt;m&gt; since 1901"} {
			if !strings.Contains(r.HTML, want) {
				t.Errorf("%s: HTML lacks %s:\n%s", name, want, r.HTML)
			}
		}
		if !strings.Contains(r.Text, "<m> since 1901") {
			t.Errorf("%s: text lacks the footer text:\n%s", name, r.Text)
		}
	}
}
