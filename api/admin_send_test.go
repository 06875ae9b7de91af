package api_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/digests"
)

// withDigests returns an edit that keeps the digests service of the server
// in *svc.
func withDigests(svc **digests.Service) func(*api.Config, *redis.Client) {
	return func(cfg *api.Config, _ *redis.Client) { *svc = cfg.Digests }
}

// addArticle adds an article of every newsletter through the editor API.
func (e *env) addArticle(url, title string) {
	e.t.Helper()
	body := `{"articles":[{"url":"` + url + `","title":"` + title + `","summary":"What happened.","section":"World",` +
		`"published_at":"` + time.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `"}]}`
	if r := e.editor("POST", "/v1/articles", body); r.Status != http.StatusOK {
		e.t.Fatalf("POST /v1/articles = %d %s", r.Status, r.Body)
	}
}

// TestAdminSendAsksFirst checks that sending a digest to the whole audience
// takes a second step that names how many readers it goes to, and that a
// test needs none.
func TestAdminSendAsksFirst(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	e.putNewsletter("daily", "Daily Brief")
	var emails []string
	for i := range 1234 {
		emails = append(emails, "reader"+strconv.Itoa(i)+"@example.org")
	}
	e.importConfirmed("daily", emails...)
	e.addArticle("https://news.example/a", "Talks in Istanbul")
	b := newBrowser(t, e)
	csrf := b.mustLogin()

	key := keyOf(t, b.get("/admin/newsletters/daily"))
	ask := b.do("POST", "/admin/newsletters/daily/digests", url.Values{"csrf": {csrf}, "key": {key}, "subject": {"Morning <news>"}, "intro": {"Hello."}})
	wantHTML(t, ask, http.StatusOK, "<title>Send to 1,234 confirmed readers? · Newsletter editor</title>",
		"<h1>Send to 1,234 confirmed readers?</h1>", "“Morning &lt;news&gt;”, with 1 article,",
		`<form method="post" action="/admin/newsletters/daily/digests">`, `name="key" value="`+key+`"`,
		`name="subject" value="Morning &lt;news&gt;"`, `name="intro" value="Hello."`, `name="confirm" value="yes"`,
		"<button type=\"submit\">Yes, send to 1,234 confirmed readers</button>", `href="/admin/newsletters/daily"`)
	if list, err := svc.Unfinished(context.Background(), "daily"); err != nil || len(list) != 0 {
		t.Fatalf("digests before confirming: %d, %v; want none", len(list), err)
	}
	if strings.Count(ask.Body, `action="/admin/newsletters/daily/digests"`) != 1 || strings.Count(ask.Body, "<button") != 2 {
		t.Errorf("the confirmation step should have one send form and the sign-out button:\n%s", ask.Body)
	}

	test := b.post("/admin/newsletters/daily/test", csrf, url.Values{"to": {"editor@example.org"}}, "/admin/digests/")
	wantHTML(t, b.get(test), http.StatusOK, "test to editor@example.org")

	loc := b.post("/admin/newsletters/daily/digests", csrf, url.Values{"key": {key}, "subject": {"Morning <news>"}, "confirm": {"yes"}}, "/admin/digests/")
	wantHTML(t, b.get(loc), http.StatusOK, "<strong>0 of 1234</strong>")
}

// TestAdminSettingsLabels checks that the lateness setting reads as a
// sentence a person wrote, with its hint tied to the field.
func TestAdminSettingsLabels(t *testing.T) {
	e, _ := newAdminEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	b := newBrowser(t, e)
	b.mustLogin()
	page := b.get("/admin/newsletters/daily")
	wantHTML(t, page, http.StatusOK, `<label for="s-late">Send a missed scheduled digest if no later than</label>`,
		`name="max_lateness"`, `aria-describedby="s-late-hint"`, `id="s-late-hint"`)
	if strings.Contains(page.Body, "Most lateness") {
		t.Errorf("the settings still say %q", "Most lateness")
	}
}

// TestAdminDigestShowsLastError checks that the digest's page says why
// sending went wrong, when it did.
func TestAdminDigestShowsLastError(t *testing.T) {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "ann@example.org")
	e.addArticle("https://news.example/a", "Talks")
	r := e.editor("POST", "/v1/newsletters/daily/digests", `{}`)
	id := digestID(t, r)
	b := newBrowser(t, e)
	b.mustLogin()
	if strings.Contains(b.get("/admin/digests/"+id).Body, "last-error") {
		t.Fatalf("a digest without an error shows one")
	}
	at := time.Date(2026, 12, 6, 9, 30, 0, 0, time.UTC)
	if err := svc.Store.NoteProblem(context.Background(), id, errors.New("421 4.7.0 <b>Try again later</b>"), at); err != nil {
		t.Fatal(err)
	}
	wantHTML(t, b.get("/admin/digests/"+id), http.StatusOK,
		`id="last-error">Last error, December 6, 2026 09:30:00 UTC: 421 4.7.0 &lt;b&gt;Try again later&lt;/b&gt;</p>`)
	got := e.editor("GET", "/v1/digests/"+id, "")
	if !strings.Contains(got.Body, `"last_error":{"message":"421 4.7.0 \u003cb\u003eTry again later\u003c/b\u003e","at":"2026-12-06T09:30:00Z"}`) {
		t.Errorf("GET /v1/digests/%s = %s, want its last_error", id, got.Body)
	}
	wantDocumented(t, "GET", "/v1/digests/{id}", got.Body)
}

// digestID returns the id of the digest answered in r.
func digestID(t *testing.T, r response) string {
	t.Helper()
	const field = `"id":"`
	i := strings.Index(r.Body, field)
	if r.Status != http.StatusAccepted || i < 0 {
		t.Fatalf("create digest = %d %s", r.Status, r.Body)
	}
	rest := r.Body[i+len(field):]
	return rest[:strings.IndexByte(rest, '"')]
}

// monitor stands in for asynqmon: an index page without a Content-Type
// (as asynqmon sends it), a script asset, and a JSON API with statuses of
// its own.
type monitor struct{}

func (monitor) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case strings.HasSuffix(r.URL.Path, ".js"):
		w.Header().Set("Content-Type", "application/javascript; charset=utf-8")
		io.WriteString(w, `document.body.innerHTML="<div id=\"root\"></div>"`)
	case strings.Contains(r.URL.Path, "/api/"):
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, `{"error":"queue not found"}`)
	default:
		io.WriteString(w, `<!doctype html><html><head><script>window.X=1</script></head><body><div id="root"></div></body></html>`)
	}
}

// TestAdminQueueUILinksBack checks that the monitor's pages link back to the
// editor pages and that its other answers pass through untouched.
func TestAdminQueueUILinksBack(t *testing.T) {
	e, _ := newAdminEnv(t, func(cfg *api.Config, _ *redis.Client) { cfg.QueueUI = monitor{} })
	b := newBrowser(t, e)
	b.mustLogin()
	for _, path := range []string{"/admin/queues/", "/admin/queues/queues/default"} {
		r := b.get(path)
		wantHTML(t, r, http.StatusOK, `<nav class="nl-back" aria-label="Editor pages"><a href="/admin">`,
			`Editor pages</a></nav><div id="root"></div>`, "<script>window.X=1</script>")
	}
	js := b.get("/admin/queues/static/js/main.js")
	if js.Status != http.StatusOK || js.Body != `document.body.innerHTML="<div id=\"root\"></div>"` {
		t.Errorf("asset = %d %q, want it untouched", js.Status, js.Body)
	}
	api := b.get("/admin/queues/api/queues/nope")
	if api.Status != http.StatusNotFound || api.Body != `{"error":"queue not found"}` || !strings.HasPrefix(api.Header.Get("Content-Type"), "application/json") {
		t.Errorf("API answer = %d %q %q, want it untouched", api.Status, api.Body, api.Header.Get("Content-Type"))
	}
}
