package api_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// importConfirmed adds confirmed subscribers to newsletter nl.
func (e *env) importConfirmed(nl string, emails ...string) {
	e.t.Helper()
	csv := "email\n" + strings.Join(emails, "\n") + "\n"
	r := e.do("POST", "/v1/subscribers/import?confirmed=true&newsletter="+nl, strings.NewReader(csv),
		"Content-Type", "text/csv", "Authorization", "Bearer "+editorToken)
	if r.Status != http.StatusOK {
		e.t.Fatalf("import = %d %s", r.Status, r.Body)
	}
}

func TestAdminNewsletterAndDigest(t *testing.T) {
	e, _ := newAdminEnv(t)
	b := newBrowser(t, e)
	csrf := b.mustLogin()

	loc := b.post("/admin/newsletters", csrf, url.Values{"id": {"daily"}, "name": {"<b>Daily</b>"}}, "/admin/newsletters/daily")
	if loc != "/admin/newsletters/daily?done=created" {
		t.Fatalf("created newsletter redirects to %q", loc)
	}
	if r := b.do("POST", "/admin/newsletters", url.Values{"csrf": {csrf}, "id": {"daily"}, "name": {"Again"}}); r.Status != http.StatusConflict {
		t.Fatalf("creating an id in use = %d, want 409", r.Status)
	}
	if r := b.do("POST", "/admin/newsletters", url.Values{"csrf": {csrf}, "id": {"Bad Id"}, "name": {"X"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a bad id = %d, want 422", r.Status)
	}
	e.importConfirmed("daily", "ann@example.org", "bob@example.org", "cy@example.org")
	wantHTML(t, b.get("/admin"), http.StatusOK, "&lt;b&gt;Daily&lt;/b&gt;", `<td class="num">3</td>`)
	wantHTML(t, b.get(loc), http.StatusOK, "The newsletter was created.", "There are no new articles")

	b.post("/admin/newsletters/daily/articles", csrf, url.Values{"url": {"https://news.example/a"},
		"title": {"<script>alert(1)</script>"}, "summary": {"S"}, "published_at": {""}}, "/admin/newsletters/daily?done=article")
	if r := b.do("POST", "/admin/newsletters/daily/articles", url.Values{"csrf": {csrf}, "url": {"javascript:alert(1)"}, "title": {"x"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("a javascript: URL = %d, want 422", r.Status)
	}
	page := b.get("/admin/newsletters/daily")
	wantHTML(t, page, http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;", "Send the digest to 3 subscribers", `href="/admin/newsletters/daily/preview"`)
	if strings.Contains(page.Body, "<script>") {
		t.Fatalf("the page shows an article's markup unescaped")
	}
	wantHTML(t, b.get("/admin/newsletters/daily/preview"), http.StatusOK, "&lt;script&gt;alert(1)&lt;/script&gt;")

	b.post("/admin/newsletters/daily", csrf, url.Values{"name": {"Daily Brief"}, "max_articles": {"5"}, "feeds": {"https://news.example/feed.xml"}},
		"/admin/newsletters/daily?done=saved")
	wantHTML(t, b.get("/admin/newsletters/daily"), http.StatusOK, "<h1>Daily Brief</h1>", "https://news.example/feed.xml", `value="5"`)

	test := b.post("/admin/newsletters/daily/test", csrf, url.Values{"to": {"editor@example.org"}}, "/admin/digests/")
	wantHTML(t, b.get(test), http.StatusOK, "test to editor@example.org", "<strong>0 of 1</strong>")

	key := keyOf(t, b.get("/admin/newsletters/daily"))
	ask := b.do("POST", "/admin/newsletters/daily/digests", url.Values{"csrf": {csrf}, "key": {key}, "subject": {"Morning"}})
	wantHTML(t, ask, http.StatusOK, "<h1>Send to 3 confirmed readers?</h1>", `name="confirm" value="yes"`)
	send := url.Values{"key": {key}, "subject": {"Morning"}, "confirm": {"yes"}}
	digest := b.post("/admin/newsletters/daily/digests", csrf, send, "/admin/digests/")
	if again := b.post("/admin/newsletters/daily/digests", csrf, send, "/admin/digests/"); again != digest {
		t.Fatalf("a second submit of the same form made digest %s, want %s again", again, digest)
	}
	r := b.get(digest)
	wantHTML(t, r, http.StatusOK, `<meta http-equiv="refresh" content="1">`, "<strong>0 of 3</strong> recipients done", "queued",
		`action="`+digest+`/cancel"`)
	if r.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", r.Header.Get("Cache-Control"))
	}

	b.post(digest+"/cancel", csrf, nil, digest+"?done=canceled")
	r = b.get(digest + "?done=canceled")
	wantHTML(t, r, http.StatusOK, "The digest was canceled.", `id="status">canceled<`)
	if strings.Contains(r.Body, "http-equiv") || strings.Contains(r.Body, "/cancel") {
		t.Fatalf("a canceled digest still reloads or offers to cancel:\n%s", r.Body)
	}
	if r := b.get("/admin/digests/nosuch"); r.Status != http.StatusNotFound {
		t.Fatalf("unknown digest = %d, want 404", r.Status)
	}
	wantNoToken(t, b)
}

func keyOf(t *testing.T, r response) string {
	t.Helper()
	const field = `name="key" value="`
	i := strings.Index(r.Body, field)
	if i < 0 {
		t.Fatalf("the page has no send form:\n%s", r.Body)
	}
	rest := r.Body[i+len(field):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestAdminSubscribersAndSuppressions(t *testing.T) {
	e, _ := newAdminEnv(t)
	e.putNewsletter("daily", "Daily")
	e.importConfirmed("daily", "ann@example.org")
	if r := e.editor("POST", "/v1/webhooks/bounces", `{"email":"gone@example.org","type":"hard","reason":"550 5.1.1 <b>unknown</b>"}`); r.Status != http.StatusOK {
		t.Fatalf("bounce = %d %s", r.Status, r.Body)
	}
	b := newBrowser(t, e)
	csrf := b.mustLogin()

	wantHTML(t, b.get("/admin/subscribers"), http.StatusOK, `<form method="get" action="/admin/subscribers">`)
	wantHTML(t, b.get("/admin/subscribers?email=ANN@example.org"), http.StatusOK, "ann@example.org", "confirmed", "import",
		`href="/admin/subscribers/export?email=ANN%40example.org"`)
	wantHTML(t, b.get("/admin/subscribers?email=nobody@example.org"), http.StatusOK, "Nothing is held about nobody@example.org.")

	r := b.get("/admin/subscribers/export?email=ann@example.org")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") ||
		!strings.Contains(r.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(r.Body, `"email": "ann@example.org"`) {
		t.Fatalf("export = %d %s %q:\n%s", r.Status, r.Header.Get("Content-Type"), r.Header.Get("Content-Disposition"), r.Body)
	}

	if r := b.do("POST", "/admin/subscribers/erase", url.Values{"csrf": {csrf}, "email": {"ann@example.org"}}); r.Status != http.StatusUnprocessableEntity {
		t.Fatalf("erase without the confirmation box = %d, want 422", r.Status)
	}
	b.post("/admin/subscribers/erase", csrf, url.Values{"email": {"ann@example.org"}, "confirm": {"yes"}}, "/admin/subscribers?done=erased")
	wantHTML(t, b.get("/admin/subscribers?email=ann@example.org"), http.StatusOK, "Nothing is held about")

	page := b.get("/admin/suppressions")
	wantHTML(t, page, http.StatusOK, "gone@example.org", "bounce", "550 5.1.1 &lt;b&gt;unknown&lt;/b&gt;", "1 to 1 of 1")
	b.post("/admin/suppressions/lift", csrf, url.Values{"email": {"gone@example.org"}}, "/admin/suppressions?done=lifted")
	wantHTML(t, b.get("/admin/suppressions?done=lifted"), http.StatusOK, "taken off the suppression list", "The suppression list is empty")
	if r := b.do("POST", "/admin/suppressions/lift", url.Values{"csrf": {csrf}, "email": {"gone@example.org"}}); r.Status != http.StatusNotFound {
		t.Fatalf("lifting twice = %d, want 404", r.Status)
	}
	if r := b.get("/admin/suppressions?offset=-1"); r.Status != http.StatusBadRequest {
		t.Fatalf("a bad offset = %d, want 400", r.Status)
	}
	wantNoToken(t, b)
}
