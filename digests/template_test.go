package digests_test

import (
	"strings"
	"testing"

	"newsletter"
	"newsletter/digests"
	"newsletter/templates"
)

// overrideMarker marks the HTML of the test's own digest template.
const overrideMarker = "own-template-marker-5f2a"

// ownTemplate is a newsletter's own digest template: the marker, the
// articles, the greeting and the personal links.
const ownTemplate = `<!doctype html><html lang="{{lang}}"><body>
<p class="` + overrideMarker + `">{{.Greeting}} {{.Newsletter.Name}}</p>
{{range .Articles}}<p><a href="{{.URL}}">{{.Title}}</a></p>{{end}}
<p><a href="{{.PreferencesURL}}">{{t "manage"}}</a> <a href="{{.UnsubscribeURL}}">{{t "email.digest.unsubscribe"}}</a></p>
</body></html>`

func mustTemplates(tb testing.TB) *templates.Set {
	tb.Helper()
	tpl, err := templates.Load("")
	if err != nil {
		tb.Fatalf("templates.Load: %v", err)
	}
	return tpl
}

// TestRenderWithTemplate renders a digest with a newsletter's own
// template and checks that each recipient's copy has the marker, the
// articles escaped, their greeting and their own unsubscribe link, and
// that the text part stays the embedded one.
func TestRenderWithTemplate(t *testing.T) {
	tpl := mustTemplates(t)
	d, nl := MustDigest(t, 2)
	nl.DigestTemplate = ownTemplate
	if err := digests.CheckTemplate(tpl, nl); err != nil {
		t.Fatalf("CheckTemplate: %v", err)
	}
	b, err := digests.Render(tpl, d, nl, baseURL, digests.WithTemplate(nl.DigestTemplate))
	if err != nil {
		t.Fatalf("Render: %v", err)
	}
	htmlPart, textPart := b.Personal(personalName, personalURL, baseURL+"/preferences?token=p")
	for _, want := range []string{overrideMarker, `href="` + strings.ReplaceAll(personalURL, "&", "&amp;") + `"`,
		"Hello &lt;b&gt;Ann&lt;/b&gt;", "&lt;script&gt;", "Story number 1 of the day"} {
		if !strings.Contains(htmlPart, want) {
			t.Errorf("HTML lacks %q:\n%s", want, htmlPart)
		}
	}
	if strings.Contains(htmlPart, "x-nl-") || strings.Contains(htmlPart, "<script>") {
		t.Errorf("HTML keeps a placeholder or an unescaped script:\n%s", htmlPart)
	}
	if !strings.Contains(textPart, personalURL) || strings.Contains(textPart, overrideMarker) {
		t.Errorf("text part = %q, want the embedded one with the unsubscribe link", textPart)
	}
	plain, err := digests.Render(tpl, d, nl, baseURL)
	if err != nil || strings.Contains(plain.HTML, overrideMarker) {
		t.Errorf("Render without WithTemplate used the newsletter's own template (err %v)", err)
	}
}

// TestCheckTemplate refuses templates that do not parse, do not render or
// do not print the unsubscribe link, naming the line, and takes none.
func TestCheckTemplate(t *testing.T) {
	tpl := mustTemplates(t)
	for _, tc := range []struct{ name, src, want string }{
		{"none", "", ""},
		{"own", ownTemplate, ""},
		{"parse error", "<p>\n{{if .Subject}}\n<a href=\"{{.UnsubscribeURL}}\">x</a>", "Line 3 of the template: unexpected EOF"},
		{"unknown field", "<p>\n<b>{{.Nope}}</b><a href=\"{{.UnsubscribeURL}}\">x</a>", `Line 2 of the template: at <.Nope>: can't evaluate field Nope`},
		{"unknown function", "<a href=\"{{.UnsubscribeURL}}\">{{shout .Subject}}</a>", `Line 1 of the template: function "shout" not defined`},
		{"unknown message", "<a href=\"{{.UnsubscribeURL}}\">{{t \"no.such.key\"}}</a>", "Line 1 of the template"},
		{"no unsubscribe link", "<p>{{.Subject}}</p>\n<a href=\"{{.PreferencesURL}}\">x</a>", "{{.UnsubscribeURL}}"},
		{"unsubscribe link not a link", "<script>var u = {{.UnsubscribeURL}};</script>", "{{.UnsubscribeURL}}"},
		{"unclosed attribute", "<a href=\"{{.UnsubscribeURL}}", "ends inside a tag"},
		{"unsubscribe link never printed", "{{if false}}<a href=\"{{.UnsubscribeURL}}\">x</a>{{end}}", "{{.UnsubscribeURL}}"},
		{"runaway loop", "<a href=\"{{.UnsubscribeURL}}\">x</a>{{range 100000000}}0123456789{{end}}", "large number"},
		{"silent loop", "<a href=\"{{.UnsubscribeURL}}\">x</a>{{- range $i := 1_000_000_000}}{{end}}", "large number"},
		{"long output", "<a href=\"{{.UnsubscribeURL}}\">x</a>{{range .Articles}}{{range 999}}{{range 999}}0123456789{{end}}{{end}}{{end}}", "too long"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, nl := MustDigest(t, 1)
			nl.DigestTemplate = tc.src
			err := digests.CheckTemplate(tpl, nl)
			if tc.want == "" {
				if err != nil {
					t.Fatalf("CheckTemplate = %v, want nil", err)
				}
				return
			}
			if newsletter.ErrorCode(err) != newsletter.EINVALIDNEWSLETTER || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("CheckTemplate = %v (code %q), want %s naming %q", err, newsletter.ErrorCode(err), newsletter.EINVALIDNEWSLETTER, tc.want)
			}
		})
	}
}
