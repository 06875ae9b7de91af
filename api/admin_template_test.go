package api_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// ownTemplate is a newsletter's own digest template, marked.
const ownTemplate = `<!doctype html><html lang="{{lang}}"><body><h1 class="own-template-91b3">{{.Newsletter.Name}}</h1>
{{range .Articles}}<p><a href="{{.URL}}">{{.Title}}</a></p>{{end}}
<p><a href="{{.UnsubscribeURL}}">{{t "email.digest.unsubscribe"}}</a></p></body></html>`

// TestAdminDigestTemplate sets a newsletter's own digest template on the
// editor pages: refused with the line when it does not parse or render,
// refused without the unsubscribe link, shown in both previews once
// saved, kept by a save of the settings, and removed again.
func TestAdminDigestTemplate(t *testing.T) {
	e, _ := newAdminEnv(t)
	b := newBrowser(t, e)
	csrf := b.mustLogin()
	b.post("/admin/newsletters", csrf, url.Values{"id": {"daily"}, "name": {"Daily"}}, "/admin/newsletters/daily")
	b.post("/admin/newsletters/daily/articles", csrf, url.Values{"url": {"https://news.example/a"}, "title": {"A story"}},
		"/admin/newsletters/daily?done=article")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, `action="/admin/newsletters/daily/template"`,
		`<textarea id="s-template" name="digest_template"`, "Its digests use the service's template.",
		`<textarea id="s-builtin" rows="16" readonly spellcheck="false" aria-label="The built-in digest template">&lt;!doctype html&gt;`)

	for _, tc := range []struct{ name, src, want string }{
		{"parse error", "<p>\n{{range .Articles}}\n<a href=\"{{.UnsubscribeURL}}\">x</a>", "Line 3 of the template: unexpected EOF"},
		{"render error", "<p>{{.Subject}}</p>\n{{.Unknown}}<a href=\"{{.UnsubscribeURL}}\">x</a>", "Line 2 of the template: at &lt;.Unknown&gt;"},
		{"no unsubscribe link", "<p>{{.Subject}}</p>", "{{.UnsubscribeURL}}"},
		{"too large", strings.Repeat("x", 64<<10+1), "at most 64 KB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			form := url.Values{"csrf": {csrf}, "digest_template": {tc.src}}
			wantHTML(t, b.do("POST", "/admin/newsletters/daily/template", form), http.StatusUnprocessableEntity,
				`<p class="error" role="alert">`, tc.want)
		})
	}
	if r := b.get("/admin/newsletters/daily/preview"); strings.Contains(r.Body, "own-template-91b3") || !strings.Contains(r.Body, "A story") {
		t.Fatalf("a refused template changed the preview:\n%s", r.Body)
	}

	b.post("/admin/newsletters/daily/template", csrf, url.Values{"digest_template": {ownTemplate}}, "/admin/newsletters/daily?done=template")
	wantHTML(t, b.get("/admin/newsletters/daily?done=template"), http.StatusOK, "The digest template was saved.",
		`&lt;h1 class=&#34;own-template-91b3&#34;&gt;`, `name="action" value="clear"`)
	wantHTML(t, b.get("/admin/newsletters/daily/preview"), http.StatusOK, `<h1 class="own-template-91b3">Daily</h1>`,
		`<a href="https://news.example/a">A story</a>`, `href="http://news.example.test/"`)
	if r := e.editor("GET", "/v1/newsletters/daily/digests/preview", ""); !strings.Contains(r.Body, "own-template-91b3") {
		t.Errorf("GET /v1/newsletters/daily/digests/preview = %d, without the own template:\n%s", r.Status, r.Body)
	}

	b.post("/admin/newsletters/daily", csrf, url.Values{"name": {"Daily Brief"}}, "/admin/newsletters/daily?done=saved")
	wantHTML(t, b.get("/admin/newsletters/daily/preview"), http.StatusOK, `<h1 class="own-template-91b3">Daily Brief</h1>`)

	for _, form := range []url.Values{{"digest_template": {ownTemplate}, "action": {"clear"}}, {"digest_template": {"  \n"}}} {
		b.post("/admin/newsletters/daily/template", csrf, url.Values{"digest_template": {ownTemplate}}, "/admin/newsletters/daily?done=template")
		b.post("/admin/newsletters/daily/template", csrf, form, "/admin/newsletters/daily?done=cleared")
		if r := b.get("/admin/newsletters/daily/preview"); strings.Contains(r.Body, "own-template-91b3") {
			t.Errorf("the preview keeps the template removed with %v:\n%s", form, r.Body)
		}
	}
	wantHTML(t, b.get("/admin/newsletters/daily?done=cleared"), http.StatusOK, "The digest template was removed")
}

// TestPutNewsletterDigestTemplate sets and refuses a digest template
// through PUT /v1/newsletters/{id}.
func TestPutNewsletterDigestTemplate(t *testing.T) {
	e, _ := newAdminEnv(t)
	put := func(src string) response {
		body, _ := json.Marshal(map[string]string{"name": "Daily", "digest_template": src})
		return e.editor("PUT", "/v1/newsletters/daily", string(body))
	}
	if r := put(ownTemplate); r.Status != http.StatusCreated || !strings.Contains(r.Body, `"digest_template":"\u003c!doctype html`) {
		t.Fatalf("PUT with a template = %d %s", r.Status, r.Body)
	}
	for _, tc := range []struct{ name, src, want string }{
		{"parse error", "{{if .Subject}}", "Line 1 of the template"},
		{"no unsubscribe link", "<p>{{.Subject}}</p>", "{{.UnsubscribeURL}}"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := put(tc.src)
			got := wantJSONError(t, r, http.StatusUnprocessableEntity, "invalid_newsletter")
			if got.Field != "digest_template" || !strings.Contains(got.Message, tc.want) {
				t.Errorf("error = %+v, want field digest_template and %q", got, tc.want)
			}
		})
	}
	big := "<a href=\"{{.UnsubscribeURL}}\">x</a>" + strings.Repeat("<p>&amp;</p>", 5000)
	if r := put(big); r.Status != http.StatusOK {
		t.Errorf("PUT of a %d-byte template = %d %s, want 200", len(big), r.Status, r.Body)
	}
}
