package digests_test

import (
	"strings"
	"testing"
	"time"

	"newsletter/articles"
	"newsletter/digests"
	"newsletter/mailer"
	"newsletter/templates"
)

// mustRender renders d with the real templates and opts, as a digest of
// newsletter daily whose own postal address is postal.
func mustRender(t *testing.T, d *digests.Digest, postal string, opts ...digests.RenderOption) *digests.Body {
	t.Helper()
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	_, n := MustDigest(t, 1)
	n.PostalAddress = postal
	b, err := digests.Render(tpl, d, n, baseURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestRenderPostalAddress: the footer prints the newsletter's postal
// address, else the service's, in both parts; with neither, none.
func TestRenderPostalAddress(t *testing.T) {
	d, _ := MustDigest(t, 1)
	for _, tc := range []struct {
		name, own, service, want string
	}{
		{"the newsletter's", "Daily Ltd, 2 Side St", "News Ltd, 1 Main St", "Daily Ltd, 2 Side St"},
		{"the service's", "", "News Ltd, 1 Main St", "News Ltd, 1 Main St"},
		{"none", "", "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := mustRender(t, d, tc.own, digests.WithPostalAddress(tc.service))
			htmlPart, textPart := b.Personal("Ann", personalURL, baseURL+"/preferences?token=p")
			for part, body := range map[string]string{"html": htmlPart, "text": textPart} {
				for _, addr := range []string{"Daily Ltd, 2 Side St", "News Ltd, 1 Main St"} {
					if got := strings.Contains(body, addr); got != (addr == tc.want) {
						t.Errorf("%s part holds %q: %v, want %v", part, addr, got, addr == tc.want)
					}
				}
			}
		})
	}
}

// TestRenderPreheader: the hidden line after the subject is the intro,
// else the first article's title; the dark scheme's classes survive CSS
// inlining.
func TestRenderPreheader(t *testing.T) {
	d, _ := MustDigest(t, 2)
	b := mustRender(t, d, "")
	if !strings.Contains(b.HTML, `mso-hide:all;">Good morning.</div>`) {
		t.Errorf("preheader is not the intro:\n%s", b.HTML)
	}
	d.Intro = ""
	b = mustRender(t, d, "")
	if !strings.Contains(b.HTML, `mso-hide:all;">&lt;script&gt;alert(1)&lt;/script&gt;</div>`) {
		t.Errorf("preheader is not the first title:\n%s", b.HTML)
	}
	for _, want := range []string{"@media (prefers-color-scheme: dark)", `class="nl-card"`, "<!--[if mso]>"} {
		if !strings.Contains(b.HTML, want) {
			t.Errorf("inlined HTML lacks %s", want)
		}
	}
}

// TestRenderImageAlt: an image's alt text is the article's image_alt,
// else its title.
func TestRenderImageAlt(t *testing.T) {
	d, _ := MustDigest(t, 1)
	d.Articles = []articles.Article{
		{URL: "https://example.org/a", Title: "Budget passes", ImageURL: "https://example.org/a.jpg", ImageAlt: "Deputies vote"},
		{URL: "https://example.org/b", Title: "Rain & wind", ImageURL: "https://example.org/b.jpg"},
	}
	b := mustRender(t, d, "")
	for _, want := range []string{`src="https://example.org/a.jpg" alt="Deputies vote"`, `src="https://example.org/b.jpg" alt="Rain &amp; wind"`} {
		if !strings.Contains(b.HTML, want) {
			t.Errorf("HTML lacks %s:\n%s", want, b.HTML)
		}
	}
}

// TestFeedbackID: every message of a digest, built alone or from the
// Template, carries the Feedback-ID of the digest, the newsletter and the
// sender's domain, with nothing of the reader in it.
func TestFeedbackID(t *testing.T) {
	d, nl := MustDigest(t, 1)
	nl.From = "Daily Brief <brief@news.example.org>"
	env := digests.NewEnvelope(d, nl, defaultFrom, baseURL, MustSigner(t))
	want := d.ID + ":daily:digest:news.example.org"
	b := MustBody(t, 1)
	if got := env.Message(d, b, recipient(42)).Headers["Feedback-ID"]; got != want {
		t.Errorf("Message: Feedback-ID = %q, want %q", got, want)
	}
	tpl, err := env.Template(b)
	if err != nil {
		t.Fatal(err)
	}
	var p mailer.Personal
	env.Personal(d, recipient(42), &p)
	raw, err := tpl.Append(nil, &p, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), "\r\nFeedback-ID: "+want+"\r\n") {
		t.Errorf("Template: no Feedback-ID %q in\n%s", want, raw)
	}
	if other := env.Message(d, b, recipient(43)).Headers["Feedback-ID"]; other != want {
		t.Errorf("another reader's Feedback-ID = %q, want the same %q", other, want)
	}
}
