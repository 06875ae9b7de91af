package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"newsletter/digests"
	"newsletter/templates"
)

// TestWebViewIsAPage checks that /digests/{id} is a page of the site: the
// newsletter's name as its heading, the articles and a sign-up
// form for the newsletter, and none of the email's personal parts, its
// "View in browser" link or its unsubscribe footer.
func TestWebViewIsAPage(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	e.putNewsletter("daily", "Daily <Brief>")
	e.importConfirmed("daily", "ann@example.org")
	e.addArticle("https://news.example/a", "Talks in Istanbul")
	id := digestID(t, e.editor("POST", "/v1/newsletters/daily/digests", `{"subject":"The talks","intro":"Good morning."}`))

	if r := e.do("GET", "/digests/"+id, nil, "Accept", "text/html"); r.Status != http.StatusNotFound {
		t.Fatalf("web view before the body is rendered = %d, want 404", r.Status)
	}
	mustSaveBody(t, e, svc, id)

	r := e.do("GET", "/digests/"+id, nil, "Accept", "text/html")
	wantHTML(t, r, http.StatusOK, "<h1>Daily &lt;Brief&gt;</h1>", ">The talks</h2>", "Good morning.",
		`<a href="https://news.example/a">Talks in Istanbul</a>`, "What happened.",
		`<h2 id="signup-heading">Get Daily &lt;Brief&gt; by email</h2>`, `<form method="post" action="/v1/subscriptions"`,
		`<input type="hidden" name="newsletter" value="daily">`, `name="source" value="http://news.example.test/digests/`+id+`"`,
		`name="email"`, `name="website"`)
	for _, email := range []string{"Hello", "View in browser", "Unsubscribe", "unsubscribe", `href="http://news.example.test/"`,
		"because you subscribed"} {
		if strings.Contains(r.Body, email) {
			t.Errorf("the web view still has the email's %q:\n%s", email, r.Body)
		}
	}
	if cc := r.Header.Get("Cache-Control"); cc != "public, max-age=300" {
		t.Errorf("Cache-Control = %q, want public, max-age=300", cc)
	}
	if r := e.do("GET", "/digests/nosuch", nil, "Accept", "text/html"); r.Status != http.StatusNotFound {
		t.Errorf("unknown digest = %d, want 404", r.Status)
	}
}

// mustSaveBody renders digest id and stores its body, as the worker does
// before it sends.
func mustSaveBody(t *testing.T, e *env, svc *digests.Service, id string) {
	t.Helper()
	ctx := context.Background()
	d, err := svc.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	n, err := e.svc.Newsletter(ctx, d.Newsletter)
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	body, err := digests.Render(tpl, d, n, "http://news.example.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Store.SaveBody(ctx, id, body); err != nil {
		t.Fatal(err)
	}
}

// TestDigestIDsAreCheckedFirst: a digest id from a URL is checked against
// the form of digest ids before it names a Redis key, so "<id>:body" and
// the like answer 404 instead of 500 WRONGTYPE (issue 17, item 6), on the
// editor API, the web view and the editor's pages.
func TestDigestIDsAreCheckedFirst(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	e.putNewsletter("daily", "Daily")
	e.importConfirmed("daily", "ann@example.org")
	e.addArticle("https://news.example/a", "Talks in Istanbul")
	id := digestID(t, e.editor("POST", "/v1/newsletters/daily/digests", `{"subject":"The talks"}`))
	mustSaveBody(t, e, svc, id)

	for _, bad := range []string{id + ":body", id + ":audience", id + ":done", strings.ToUpper(id), id[:23], id + "0", "..%2F" + id} {
		wantJSONError(t, e.editor("GET", "/v1/digests/"+bad, ""), http.StatusNotFound, "not_found")
		wantJSONError(t, e.editor("POST", "/v1/digests/"+bad+"/cancel", ""), http.StatusNotFound, "not_found")
		if r := e.do("GET", "/digests/"+bad, nil, "Accept", "text/html"); r.Status != http.StatusNotFound {
			t.Errorf("web view of %q = %d, want 404", bad, r.Status)
		}
	}
	if r := e.editor("GET", "/v1/digests/"+id, ""); r.Status != http.StatusOK {
		t.Errorf("the digest itself = %d %s, want 200", r.Status, r.Body)
	}
	if !digests.ValidID(id) || digests.ValidID(id+":body") {
		t.Errorf("ValidID disagrees with the ids the service makes")
	}
}
