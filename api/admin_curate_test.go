package api_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter/articles"
	"newsletter/digests"
)

// curatedEnv is an editor signed in to a newsletter "daily" (time zone
// Europe/Kyiv) with one confirmed reader and three articles, a, b and c.
type curatedEnv struct {
	*env
	b        *browser
	csrf     string
	svc      *digests.Service
	a, b2, c string // the articles' URLs
}

func newCuratedEnv(t *testing.T) *curatedEnv {
	var svc *digests.Service
	e, _ := newAdminEnv(t, withDigests(&svc))
	e.putNewsletter("daily", "Daily Brief")
	if r := e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily Brief","timezone":"Europe/Kyiv"}`); r.Status != http.StatusOK {
		t.Fatalf("PUT = %d %s", r.Status, r.Body)
	}
	e.importConfirmed("daily", "ann@example.org")
	ce := &curatedEnv{env: e, svc: svc, a: "https://news.example/a", b2: "https://news.example/b", c: "https://news.example/c"}
	for _, u := range []string{ce.a, ce.b2, ce.c} {
		e.addArticle(u, "Story "+strings.ToUpper(u[len(u)-1:]))
	}
	ce.b = newBrowser(t, e)
	ce.csrf = ce.b.mustLogin()
	return ce
}

// curateForm picks the articles in urls, numbered in that order, with
// lead. It lists the picks backwards: the numbers, not the order of the
// fields, decide.
func (ce *curatedEnv) curateForm(action, lead string, urls ...string) url.Values {
	f := url.Values{"csrf": {ce.csrf}, "action": {action}}
	for i := len(urls) - 1; i >= 0; i-- {
		id := articles.IDOf(urls[i])
		f.Add("pick", id)
		f.Set("order-"+id, strconv.Itoa(i+1))
	}
	if lead != "" {
		f.Set("lead", articles.IDOf(lead))
	}
	return f
}

var hiddenArticle = regexp.MustCompile(`name="article" value="([0-9a-f]+)"`)

// TestAdminCurationForm: the newsletter page lists the draft's candidates
// with a checkbox, an order number and a lead radio each, the default
// selection checked, and links to the history.
func TestAdminCurationForm(t *testing.T) {
	ce := newCuratedEnv(t)
	page := ce.b.get("/admin/newsletters/daily")
	want := []string{`<form method="post" action="/admin/newsletters/daily/curate" id="curate-form">`,
		`href="/admin/newsletters/daily/digests"`, `Send at (Europe/Kyiv)`,
		`name="action" value="preview" formtarget="_blank"`, `name="action" value="test"`,
		`name="action" value="send"`, `name="action" value="schedule"`}
	for _, u := range []string{ce.a, ce.b2, ce.c} {
		id := articles.IDOf(u)
		want = append(want, `name="pick" value="`+id+`" id="pick-`+id+`" checked`, `name="order-`+id+`"`,
			`type="radio" name="lead" value="`+id+`"`)
	}
	wantHTML(t, page, http.StatusOK, want...)
}

// TestAdminCuratePreviewAndSend: Preview renders exactly the picked
// articles in the numbered order with the lead first; Send now asks to
// confirm, carrying them on, and then sends exactly those.
func TestAdminCuratePreviewAndSend(t *testing.T) {
	ce := newCuratedEnv(t)
	preview := ce.b.do("POST", "/admin/newsletters/daily/curate", ce.curateForm("preview", ce.a, ce.c, ce.a))
	wantHTML(t, preview, http.StatusOK, "Story A", "Story C")
	if strings.Contains(preview.Body, "Story B") || strings.Index(preview.Body, "Story A") > strings.Index(preview.Body, "Story C") {
		t.Fatalf("preview: want Story A (the lead) then Story C, and no Story B:\n%s", preview.Body)
	}
	if list, _, _ := ce.svc.Store.History(context.Background(), "daily", 0, 10); len(list) != 0 {
		t.Fatalf("a preview stored %d digests", len(list))
	}

	ask := ce.b.do("POST", "/admin/newsletters/daily/curate", ce.curateForm("send", ce.b2, ce.c, ce.a, ce.b2))
	wantHTML(t, ask, http.StatusOK, "<h1>Send to 1 confirmed reader?</h1>", "with 3 articles",
		`name="lead" value="`+articles.IDOf(ce.b2)+`"`)
	var carried []string
	for _, m := range hiddenArticle.FindAllStringSubmatch(ask.Body, -1) {
		carried = append(carried, m[1])
	}
	if diff := cmp.Diff([]string{articles.IDOf(ce.c), articles.IDOf(ce.a), articles.IDOf(ce.b2)}, carried); diff != "" {
		t.Fatalf("articles carried to the confirm step (-want +got):\n%s", diff)
	}
	form := url.Values{"csrf": {ce.csrf}, "confirm": {"yes"}, "key": {keyOf(t, ask)}, "article": carried,
		"lead": {articles.IDOf(ce.b2)}}
	loc := ce.b.post("/admin/newsletters/daily/digests", ce.csrf, form, "/admin/digests/")
	d, err := ce.svc.Get(context.Background(), strings.TrimPrefix(loc, "/admin/digests/"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{ce.b2, ce.c, ce.a}, articleURLs(d.Articles)); diff != "" {
		t.Fatalf("sent articles (-want +got):\n%s", diff)
	}
	if !d.Articles[0].Lead || d.Articles[1].Lead || d.IsTest() {
		t.Fatalf("digest: lead marks %v, test %v; want the first alone, not a test", d.Articles, d.IsTest())
	}
}

// TestAdminCurateTestAndErrors: Send test sends the picked articles to the
// test addresses only; no pick, no address or a bad order is refused.
func TestAdminCurateTestAndErrors(t *testing.T) {
	ce := newCuratedEnv(t)
	f := ce.curateForm("test", "", ce.c)
	f.Set("to", "editor@example.org")
	loc := ce.b.post("/admin/newsletters/daily/curate", ce.csrf, f, "/admin/digests/")
	d, err := ce.svc.Get(context.Background(), strings.TrimPrefix(loc, "/admin/digests/"))
	if err != nil || !cmp.Equal(articleURLs(d.Articles), []string{ce.c}) || !cmp.Equal(d.TestRecipients, []string{"editor@example.org"}) {
		t.Fatalf("test digest %+v, %v; want Story C to editor@example.org", d, err)
	}
	noPick := url.Values{"csrf": {ce.csrf}, "action": {"send"}}
	wantHTML(t, ce.b.do("POST", "/admin/newsletters/daily/curate", noPick), http.StatusUnprocessableEntity, "Pick at least one article.")
	wantHTML(t, ce.b.do("POST", "/admin/newsletters/daily/curate", ce.curateForm("test", "", ce.c)),
		http.StatusUnprocessableEntity, "Enter an address to send the test to.")
	bad := ce.curateForm("send", "", ce.c)
	bad.Set("order-"+articles.IDOf(ce.c), "first")
	wantHTML(t, ce.b.do("POST", "/admin/newsletters/daily/curate", bad), http.StatusUnprocessableEntity, "An article&#39;s order is a whole number.")
	late := ce.curateForm("schedule", "", ce.c)
	late.Set("send_at", "soon")
	wantHTML(t, ce.b.do("POST", "/admin/newsletters/daily/curate", late), http.StatusUnprocessableEntity, "Enter the date and time to send the digest at.")
}

// TestAdminScheduleAndCancel: Schedule takes the time in the newsletter's
// time zone, asks to confirm, and queues the digest for then; the
// newsletter page lists it with a cancel button, which cancels it.
func TestAdminScheduleAndCancel(t *testing.T) {
	ce := newCuratedEnv(t)
	kyiv, err := time.LoadLocation("Europe/Kyiv")
	if err != nil {
		t.Skip("no time zone data:", err)
	}
	at := time.Now().In(kyiv).Add(48 * time.Hour).Truncate(time.Minute)
	f := ce.curateForm("schedule", "", ce.a, ce.c)
	f.Set("send_at", at.Format("2006-01-02T15:04"))
	ask := ce.b.do("POST", "/admin/newsletters/daily/curate", f)
	wantHTML(t, ask, http.StatusOK, `<strong id="send-at">`+at.Format("Monday, January 2, 2006 15:04 MST")+`</strong>`,
		`name="send_at" value="`+at.UTC().Format(time.RFC3339)+`"`, "Yes, schedule it")
	form := url.Values{"confirm": {"yes"}, "key": {keyOf(t, ask)}, "send_at": {at.Format(time.RFC3339)},
		"article": {articles.IDOf(ce.a), articles.IDOf(ce.c)}}
	loc := ce.b.post("/admin/newsletters/daily/digests", ce.csrf, form, "/admin/digests/")
	id := strings.TrimPrefix(loc, "/admin/digests/")
	d, err := ce.svc.Get(context.Background(), id)
	if err != nil || d.Status != digests.StatusQueued || d.SendAt == nil || !d.SendAt.Equal(at) {
		t.Fatalf("scheduled digest %+v, %v; want queued for %v", d, err, at)
	}
	waiting := ce.b.get("/admin/digests/" + id)
	wantHTML(t, waiting, http.StatusOK, `scheduled for <span id="send-at">`+at.Format("January 2, 2006 15:04 MST")+`</span>`)
	if strings.Contains(waiting.Body, `http-equiv="refresh"`) {
		t.Fatalf("the page of a digest scheduled for %v reloads itself:\n%s", at, waiting.Body)
	}
	page := ce.b.get("/admin/newsletters/daily")
	wantHTML(t, page, http.StatusOK, `<ul id="scheduled">`, `<a href="/admin/digests/`+id+`">`,
		`<form method="post" action="/admin/digests/`+id+`/cancel"`)
	ce.b.post("/admin/digests/"+id+"/cancel", ce.csrf, nil, "/admin/digests/"+id)
	if d, err := ce.svc.Get(context.Background(), id); err != nil || d.Status != digests.StatusCanceled {
		t.Fatalf("after cancel: %+v, %v; want canceled", d, err)
	}
	if page := ce.b.get("/admin/newsletters/daily"); strings.Contains(page.Body, `<ul id="scheduled">`) {
		t.Fatalf("the page still lists a scheduled digest:\n%s", page.Body)
	}
}

// TestAdminScheduleTimeZones: the form's default time is the next full
// hour on the newsletter's clocks (Asia/Kolkata is UTC+5:30); a time the
// clocks skip is refused, one they show twice is the first and the page
// says so; the scheduled list and the history show the newsletter's time.
func TestAdminScheduleTimeZones(t *testing.T) {
	ce := newCuratedEnv(t)
	kolkata, err1 := time.LoadLocation("Asia/Kolkata")
	berlin, err2 := time.LoadLocation("Europe/Berlin")
	kyiv, err3 := time.LoadLocation("Europe/Kyiv")
	if err := errors.Join(err1, err2, err3); err != nil {
		t.Skip("no time zone data:", err)
	}
	if r := ce.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily Brief","timezone":"Asia/Kolkata"}`); r.Status != http.StatusOK {
		t.Fatalf("PUT = %d %s", r.Status, r.Body)
	}
	before := time.Now()
	m := regexp.MustCompile(`id="c-send-at" name="send_at" value="([^"]+)"`).FindStringSubmatch(ce.b.get("/admin/newsletters/daily").Body)
	if m == nil {
		t.Fatal("the newsletter page has no send_at field")
	}
	def, err := time.ParseInLocation("2006-01-02T15:04", m[1], kolkata)
	if err != nil || def.Minute() != 0 || !def.After(before) || def.Sub(before) > time.Hour {
		t.Fatalf("default send_at = %s (%v), want the next full hour in Asia/Kolkata", m[1], err)
	}

	if r := ce.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily Brief","timezone":"Europe/Berlin"}`); r.Status != http.StatusOK {
		t.Fatalf("PUT = %d %s", r.Status, r.Body)
	}
	gap := ce.curateForm("schedule", "", ce.a)
	gap.Set("send_at", "2027-03-28T02:30")
	wantHTML(t, ce.b.do("POST", "/admin/newsletters/daily/curate", gap), http.StatusUnprocessableEntity,
		"March 28, 2027 02:30 does not exist in Europe/Berlin")
	twice := ce.curateForm("schedule", "", ce.a)
	twice.Set("send_at", "2027-10-31T02:30")
	first := time.Date(2027, 10, 31, 0, 30, 0, 0, time.UTC).In(berlin)
	wantHTML(t, ce.b.do("POST", "/admin/newsletters/daily/curate", twice), http.StatusOK,
		`<strong id="send-at">Sunday, October 31, 2027 02:30 CEST</strong>`, `id="send-at-note"`, "02:30 comes twice",
		`name="send_at" value="`+first.UTC().Format(time.RFC3339)+`"`)

	if r := ce.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily Brief","timezone":"Europe/Kyiv"}`); r.Status != http.StatusOK {
		t.Fatalf("PUT = %d %s", r.Status, r.Body)
	}
	at := time.Now().Add(30 * time.Hour).Truncate(time.Minute)
	d, _, err := ce.svc.Create(context.Background(), "daily", digests.Request{SendAt: at})
	if err != nil {
		t.Fatal(err)
	}
	wantHTML(t, ce.b.get("/admin/newsletters/daily"), http.StatusOK,
		`<a href="/admin/digests/`+d.ID+`">`+d.Subject+`</a>, at `+at.In(kyiv).Format("Monday, January 2, 2006 15:04 MST"))
	wantHTML(t, ce.b.get("/admin/newsletters/daily/digests"), http.StatusOK,
		"scheduled for "+at.In(kyiv).Format("Jan 2, 2006 15:04 MST"))
}

func articleURLs(list []articles.Article) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.URL
	}
	return out
}
