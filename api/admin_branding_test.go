package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestAdminSettingsBranding saves the postal address and branding through
// the settings form, shows them back, refuses what the API refuses, and
// keeps them when a form without those fields is saved.
func TestAdminSettingsBranding(t *testing.T) {
	e, _ := newAdminEnv(t)
	b := newBrowser(t, e)
	csrf := b.mustLogin()
	b.post("/admin/newsletters", csrf, url.Values{"id": {"daily"}, "name": {"Daily"}}, "/admin/newsletters/daily")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, `name="postal_address"`, `name="logo_url"`,
		`name="accent_color"`, `name="footer_text"`)

	branding := url.Values{"name": {"Daily"}, "postal_address": {"1 Main St, Kyiv"},
		"logo_url": {"https://news.example/logo.png"}, "accent_color": {"#A4000F"}, "footer_text": {"Made in <Kyiv>"}}
	b.post("/admin/newsletters/daily", csrf, branding, "/admin/newsletters/daily?done=saved")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, `value="1 Main St, Kyiv"`,
		`value="https://news.example/logo.png"`, `value="#a4000f"`, `value="Made in &lt;Kyiv&gt;"`)

	for _, tc := range []struct{ field, value, message string }{
		{"logo_url", "http://news.example/logo.png", "A logo is an https:// URL"},
		{"accent_color", "#ffff00", "The accent colour is too light"},
		{"accent_color", "red", "An accent colour is written"},
		{"footer_text", strings.Repeat("x", 501), "At most 500 characters."},
		{"postal_address", "1 Main St\nKyiv", "A postal address is one line"},
	} {
		t.Run(tc.field+"="+tc.value[:min(len(tc.value), 12)], func(t *testing.T) {
			form := url.Values{"csrf": {csrf}, "name": {"Daily"}, tc.field: {tc.value}}
			wantHTML(t, b.do("POST", "/admin/newsletters/daily", form), http.StatusUnprocessableEntity,
				`<p class="error" role="alert">`+tc.message)
		})
	}

	b.post("/admin/newsletters/daily", csrf, url.Values{"name": {"Daily Brief"}}, "/admin/newsletters/daily?done=saved")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, `value="1 Main St, Kyiv"`, `value="#a4000f"`)
	r := e.editor("GET", "/v1/newsletters", "")
	if !strings.Contains(r.Body, `"logo_url":"https://news.example/logo.png"`) || !strings.Contains(r.Body, `"footer_text":"Made in \u003cKyiv\u003e"`) {
		t.Errorf("GET /v1/newsletters lacks the branding saved on the editor pages: %s", r.Body)
	}

	b.post("/admin/newsletters/daily", csrf, url.Values{"name": {"Daily"}, "logo_url": {""}, "accent_color": {""}},
		"/admin/newsletters/daily?done=saved")
	if page := b.get("/admin/newsletters/daily"); strings.Contains(page.Body, `value="https://news.example/logo.png"`) || strings.Contains(page.Body, `value="#a4000f"`) {
		t.Errorf("the logo and accent colour stay after saving them empty")
	}
}

// TestAdminArticleLeadAndPosition adds articles with the lead checkbox,
// a position and alt text, and finds the next digest in their order.
func TestAdminArticleLeadAndPosition(t *testing.T) {
	e, _ := newAdminEnv(t)
	b := newBrowser(t, e)
	csrf := b.mustLogin()
	b.post("/admin/newsletters", csrf, url.Values{"id": {"daily"}, "name": {"Daily"}}, "/admin/newsletters/daily")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, `name="image_alt"`,
		`<input type="checkbox" id="a-lead" name="lead" value="true"`, `name="position"`)

	add := func(path, title, published string, extra url.Values) {
		form := url.Values{"url": {"https://news.example/" + path}, "title": {title}, "published_at": {published}}
		for k, v := range extra {
			form[k] = v
		}
		b.post("/admin/newsletters/daily/articles", csrf, form, "/admin/newsletters/daily?done=article")
	}
	now := time.Now().UTC()
	add("newest", "Newest", now.Add(-time.Minute).Format("2006-01-02T15:04"), nil)
	add("second", "Second", now.Add(-time.Hour).Format("2006-01-02T15:04"), url.Values{"position": {"1"}})
	add("lead", "Lead story", now.Add(-2*time.Hour).Format("2006-01-02T15:04"),
		url.Values{"lead": {"true"}, "image_url": {"https://news.example/p.jpg"}, "image_alt": {"A crowded square"}})

	page := b.get("/admin/newsletters/daily")
	lead, second, newest := strings.Index(page.Body, ">Lead story<"), strings.Index(page.Body, ">Second<"), strings.Index(page.Body, ">Newest<")
	if lead < 0 || !(lead < second && second < newest) {
		t.Errorf("next digest order: lead at %d, positioned at %d, newest at %d; want lead, positioned, newest", lead, second, newest)
	}
	wantHTML(t, b.get("/admin/newsletters/daily/preview"), http.StatusOK, `alt="A crowded square"`)

	for _, position := range []string{"first", "1001", "-1"} {
		form := url.Values{"csrf": {csrf}, "url": {"https://news.example/x"}, "title": {"X"}, "position": {position}}
		wantHTML(t, b.do("POST", "/admin/newsletters/daily/articles", form), http.StatusUnprocessableEntity,
			`<p class="error" role="alert">`)
	}
}
