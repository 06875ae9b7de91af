package api_test

import (
	"io"
	"net/http"
	"net/url"
	"newsletter/subscribers"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/articles"
	"newsletter/digests"
	"newsletter/worker"
)

// sessionKey is the key of the test servers' session cookies.
var sessionKey = []byte("a-session-key-for-the-api-tests!")

// adminToken is the editor token the tests sign in with: long and
// distinctive, so that finding it in a page cannot be a coincidence.
const adminToken = "admin-editor-token-3b8f1c6d92e4"

// withEditorPages gives the server what the editor pages need: articles,
// digests (queued, as no worker runs) and a fixed session key.
func withEditorPages(cfg *api.Config, rdb *redis.Client) {
	enq, err := worker.NewEnqueuer(rdb, []string{"a-test-secret-of-enough-length"})
	if err != nil {
		panic(err)
	}
	cfg.Articles = articles.NewStore(rdb)
	cfg.Digests = &digests.Service{Store: digests.NewStore(rdb), Articles: cfg.Articles, Readers: cfg.Subscribers.Store, NormalizeAddress: subscribers.NormalizeAddress,
		Dispatcher: enq, Now: time.Now}
	cfg.BaseURL = "http://news.example.test"
	cfg.SessionKey = sessionKey
	cfg.APITokens = append(cfg.APITokens, adminToken)
}

// browser is an editor's browser: it keeps the cookies it is given, sends
// them back, and never follows redirects, so tests see every answer.
type browser struct {
	t       *testing.T
	base    string
	cookies map[string]*http.Cookie
	seen    []string // every body answered, to look for the token
}

func newBrowser(t *testing.T, e *env) *browser {
	return &browser{t: t, base: e.srv.URL, cookies: map[string]*http.Cookie{}}
}

var client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// do sends a request with the browser's cookies; form, when not nil, is
// posted form-encoded. header holds name, value pairs.
func (b *browser) do(method, path string, form url.Values, header ...string) response {
	b.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "text/html")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	for _, c := range b.cookies {
		if strings.HasPrefix(req.URL.Path, c.Path) {
			req.AddCookie(c)
		}
	}
	res, err := client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	for _, c := range res.Cookies() {
		if c.MaxAge < 0 {
			delete(b.cookies, c.Name)
		} else {
			b.cookies[c.Name] = c
		}
	}
	b.seen = append(b.seen, string(raw))
	return response{Status: res.StatusCode, Header: res.Header, Body: string(raw)}
}

func (b *browser) get(path string) response {
	b.t.Helper()
	return b.do("GET", path, nil)
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf returns the CSRF token of the first form of a page.
func csrfOf(t *testing.T, r response) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(r.Body)
	if m == nil {
		t.Fatalf("the page has no CSRF field (status %d):\n%s", r.Status, r.Body)
	}
	return m[1]
}

// login signs in with token through the sign-in form and returns the answer.
func (b *browser) login(token string) response {
	b.t.Helper()
	page := b.get("/admin/login")
	return b.do("POST", "/admin/login", url.Values{"csrf": {csrfOf(b.t, page)}, "token": {token}})
}

// mustLogin signs in with the editor token and returns the CSRF token of
// the session.
func (b *browser) mustLogin() string {
	b.t.Helper()
	if r := b.login(adminToken); r.Status != http.StatusSeeOther || r.Header.Get("Location") != "/admin" {
		b.t.Fatalf("sign in = %d to %q, want 303 to /admin:\n%s", r.Status, r.Header.Get("Location"), r.Body)
	}
	return csrfOf(b.t, b.get("/admin"))
}

// post posts a form with the session's CSRF token and wants 303 to a path
// that starts with wantTo; it returns the Location.
func (b *browser) post(path, csrf string, form url.Values, wantTo string) string {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("csrf", csrf)
	r := b.do("POST", path, form)
	loc := r.Header.Get("Location")
	if r.Status != http.StatusSeeOther || !strings.HasPrefix(loc, wantTo) {
		b.t.Fatalf("POST %s = %d to %q, want 303 to %s...:\n%s", path, r.Status, loc, wantTo, r.Body)
	}
	return loc
}

// wantRedirect checks that r is 303 See Other to location.
func wantRedirect(t *testing.T, r response, location string) {
	t.Helper()
	if r.Status != http.StatusSeeOther || r.Header.Get("Location") != location {
		t.Fatalf("answer = %d to %q, want 303 to %s", r.Status, r.Header.Get("Location"), location)
	}
}
