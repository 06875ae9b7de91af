package api_test

import (
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
	"newsletter/throttle"
)

func newAdminEnv(t *testing.T, edits ...func(*api.Config, *redis.Client)) (*env, *api.Server) {
	t.Helper()
	return newEnvWith(t, t.Output(), func(cfg *api.Config, rdb *redis.Client) {
		withEditorPages(cfg, rdb)
		for _, edit := range edits {
			edit(cfg, rdb)
		}
	})
}

func TestAdminSignIn(t *testing.T) {
	logs := &syncBuffer{}
	e, _ := newEnvWith(t, logs, withEditorPages)
	b := newBrowser(t, e)

	wantRedirect(t, b.get("/admin"), "/admin/login")
	page := b.get("/admin/login")
	wantHTML(t, page, http.StatusOK, `<form method="post" action="/admin/login">`, `type="password"`)
	if c := b.cookies["nl_admin_login"]; c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin/login" {
		t.Fatalf("sign-in form cookie = %+v, want HttpOnly, SameSite=Strict, on /admin/login", c)
	}

	r := b.login("not-the-token")
	wantHTML(t, r, http.StatusUnauthorized, "This token is not valid.")
	if b.cookies["nl_admin"] != nil {
		t.Fatalf("a wrong token got a session cookie")
	}
	r = b.do("POST", "/admin/login", url.Values{"csrf": {"forged"}, "token": {adminToken}})
	wantHTML(t, r, http.StatusForbidden, "The sign-in form has expired.")
	if b.cookies["nl_admin"] != nil {
		t.Fatalf("a sign-in without the form's CSRF token got a session cookie")
	}

	r = b.login(adminToken)
	wantRedirect(t, r, "/admin")
	c := b.cookies["nl_admin"]
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/admin" || c.Secure || c.MaxAge != 12*3600 {
		t.Fatalf("session cookie = %+v, want HttpOnly, SameSite=Strict, on /admin, 12 h, not Secure over http", c)
	}
	wantHTML(t, b.get("/admin"), http.StatusOK, "<h1>Newsletters</h1>", `action="/admin/logout"`)
	wantRedirect(t, b.get("/admin/login"), "/admin")

	csrf := csrfOf(t, b.get("/admin"))
	wantRedirect(t, b.do("POST", "/admin/logout", url.Values{"csrf": {csrf}}), "/admin/login")
	if b.cookies["nl_admin"] != nil {
		t.Fatalf("the session cookie survived signing out")
	}
	wantRedirect(t, b.get("/admin"), "/admin/login")
	wantNoToken(t, b)
	e.srv.Close() // every handler has logged
	if l := logs.String(); !strings.Contains(l, "Editor signed in") || strings.Contains(l, adminToken) || strings.Contains(l, "not-the-token") {
		t.Fatalf("the log lacks the sign-in or holds a token:\n%s", l)
	}
}

func TestAdminSessionCookieOverHTTPSIsSecure(t *testing.T) {
	e, _ := newAdminEnv(t, func(cfg *api.Config, _ *redis.Client) { cfg.BaseURL = "https://news.example" })
	b := newBrowser(t, e)
	b.login(adminToken)
	if c := b.cookies["nl_admin"]; c == nil || !c.Secure {
		t.Fatalf("session cookie = %+v, want Secure when the base URL is https", c)
	}
}

func TestAdminRefusesForgedSessions(t *testing.T) {
	e, _ := newAdminEnv(t)
	b := newBrowser(t, e)
	b.mustLogin()
	good := b.cookies["nl_admin"].Value
	flipped := []byte(good)
	flipped[10] ^= 1

	other, _ := newAdminEnv(t, func(cfg *api.Config, _ *redis.Client) { cfg.SessionKey = []byte("another-key-another-key-another!") })
	ob := newBrowser(t, other)
	ob.mustLogin()

	revoked, _ := newAdminEnv(t, func(cfg *api.Config, _ *redis.Client) { cfg.APITokens = []string{"a-new-token"} })

	tests := []struct {
		name   string
		e      *env
		cookie string
	}{
		{"garbage", e, "garbage"},
		{"tampered", e, string(flipped)},
		{"truncated", e, good[:len(good)-4]},
		{"expired", e, expiredCookie(good)},
		{"signed with another key", e, ob.cookies["nl_admin"].Value},
		{"its token was revoked", revoked, good},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fb := newBrowser(t, tt.e)
			fb.cookies["nl_admin"] = &http.Cookie{Name: "nl_admin", Value: tt.cookie, Path: "/admin"}
			for _, path := range []string{"/admin", "/admin/subscribers", "/admin/queues/"} {
				wantRedirect(t, fb.get(path), "/admin/login")
			}
			r := fb.do("POST", "/admin/newsletters", url.Values{"csrf": {"x"}, "id": {"daily"}, "name": {"Daily"}})
			wantHTML(t, r, http.StatusUnauthorized, "Please sign in again")
		})
	}
}

// expiredCookie returns value with its expiry set in the past; the
// signature no longer matches, which is what a server must notice.
func expiredCookie(value string) string {
	raw, _ := base64.RawURLEncoding.DecodeString(value)
	copy(raw[:8], []byte{0, 0, 0, 0, 0, 0, 0, 1})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func TestAdminFormsNeedTheCSRFToken(t *testing.T) {
	e, s := newAdminEnv(t)
	e.putNewsletter("daily", "Daily")
	b := newBrowser(t, e)
	b.mustLogin()
	ob := newBrowser(t, e) // another session's token is wrong too
	otherCSRF := ob.mustLogin()

	var posts []string
	for _, r := range s.Routes() {
		if r.Method == "POST" && strings.HasPrefix(r.Path, "/admin/") && r.Path != "/admin/login" && !strings.HasPrefix(r.Path, "/admin/queues/") {
			posts = append(posts, strings.ReplaceAll(r.Path, ":id", "daily"))
		}
	}
	if len(posts) < 9 {
		t.Fatalf("only %d editor forms found: %v", len(posts), posts)
	}
	for _, path := range posts {
		for name, form := range map[string]url.Values{
			"no token":              {"id": {"weekly"}, "name": {"Weekly"}, "email": {"a@example.org"}},
			"another session's one": {"csrf": {otherCSRF}, "id": {"weekly"}, "name": {"Weekly"}},
		} {
			t.Run(path+" "+name, func(t *testing.T) {
				wantHTML(t, b.do("POST", path, form), http.StatusForbidden, "This form has expired.")
			})
		}
	}
	if r := e.editor("GET", "/v1/newsletters", ""); strings.Contains(r.Body, "weekly") {
		t.Fatalf("a refused form created a newsletter: %s", r.Body)
	}
	if b.cookies["nl_admin"] == nil {
		t.Fatalf("a refused form ended the session")
	}
}

func TestAdminLoginFailuresAreLimited(t *testing.T) {
	e, _ := newAdminEnv(t, func(cfg *api.Config, rdb *redis.Client) {
		cfg.AuthFailureLimit = throttle.NewWindow(rdb, "nl:{nl}:throttle:authfail:", throttle.Rate{N: 3, Per: time.Minute})
	})
	b := newBrowser(t, e)
	for i := range 3 {
		if r := b.login("wrong-" + string(rune('a'+i))); r.Status != http.StatusUnauthorized {
			t.Fatalf("failure %d = %d, want 401", i+1, r.Status)
		}
	}
	r := b.login("wrong-d")
	wantHTML(t, r, http.StatusTooManyRequests, "Too many failed attempts")
	wantRetryAfter(t, r, 60)
	if b.cookies["nl_admin"] != nil {
		t.Fatalf("a refused sign-in got a session")
	}
	// Past the limit the right token is refused too, unchecked.
	r = b.login(editorToken)
	wantHTML(t, r, http.StatusTooManyRequests, "Too many failed attempts")
	if b.cookies["nl_admin"] != nil {
		t.Fatalf("the right token signed in from a client past its limit")
	}
	// Bearer failures and sign-in failures share the limit.
	if r := e.do("GET", "/v1/newsletters", nil, "Authorization", "Bearer wrong"); r.Status != http.StatusTooManyRequests {
		t.Fatalf("bearer request after failed sign-ins = %d, want 429", r.Status)
	}
}

// queueUI stands in for asynqmon: an index with an inline script, and an
// API that records what reached it.
type queueUI struct{ got []string }

const queueIndex = `<!doctype html><script>window.FLAG="x"</script><div id="root"></div>`

func (q *queueUI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q.got = append(q.got, r.Method+" "+r.URL.Path)
	w.Header().Set("Content-Type", "text/html")
	io.WriteString(w, queueIndex)
}

func TestAdminQueueUI(t *testing.T) {
	ui := &queueUI{}
	e, _ := newAdminEnv(t, func(cfg *api.Config, _ *redis.Client) { cfg.QueueUI = ui })
	b := newBrowser(t, e)

	wantRedirect(t, b.get("/admin/queues/"), "/admin/login")
	if r := b.do("POST", "/admin/queues/api/queues/default:pause", url.Values{}); r.Status != http.StatusUnauthorized {
		t.Fatalf("POST without a session = %d, want 401", r.Status)
	}
	ui.got = nil // the server rendered the index once, to hash its scripts
	b.mustLogin()
	r := b.get("/admin/queues/")
	if r.Status != http.StatusOK || !strings.HasPrefix(r.Body, `<!doctype html><script>window.FLAG="x"</script>`) ||
		!strings.HasSuffix(r.Body, `<div id="root"></div>`) || !strings.Contains(r.Body, `<a href="/admin">`) {
		t.Fatalf("queue UI = %d %q, want the monitor's page with a link back to the editor pages", r.Status, r.Body)
	}
	sum := sha256.Sum256([]byte(`window.FLAG="x"`))
	csp := r.Header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "script-src 'self' 'sha256-"+base64.StdEncoding.EncodeToString(sum[:])+"'") || !strings.Contains(csp, "frame-ancestors 'none'") {
		t.Fatalf("queue UI policy = %q, want its own scripts and the inline one by hash", csp)
	}
	if csp := b.get("/admin").Header.Get("Content-Security-Policy"); strings.Contains(csp, "script-src") {
		t.Fatalf("the editor pages allow scripts: %q", csp)
	}
	for _, h := range [][]string{{"Origin", "https://evil.example"}, {"Sec-Fetch-Site", "cross-site"}} {
		if r := b.do("DELETE", "/admin/queues/api/queues/default", nil, h...); r.Status != http.StatusForbidden {
			t.Fatalf("DELETE with %s: %s = %d, want 403", h[0], h[1], r.Status)
		}
	}
	b.do("POST", "/admin/queues/api/queues/default:pause", nil, "Origin", e.srv.URL, "Sec-Fetch-Site", "same-origin")
	want := []string{"GET /admin/queues/", "POST /admin/queues/api/queues/default:pause"}
	if strings.Join(ui.got, ",") != strings.Join(want, ",") {
		t.Fatalf("the queue UI got %v, want %v", ui.got, want)
	}
}

func TestAdminQueueUIMissing(t *testing.T) {
	e, _ := newAdminEnv(t)
	b := newBrowser(t, e)
	b.mustLogin()
	if r := b.get("/admin/queues/"); r.Status != http.StatusNotFound {
		t.Fatalf("queue UI without a monitor = %d, want 404", r.Status)
	}
}

// wantNoToken fails when a page the browser saw shows the editor token.
func wantNoToken(t *testing.T, b *browser) {
	t.Helper()
	for _, body := range b.seen {
		if strings.Contains(body, adminToken) {
			t.Fatalf("a page shows the editor token:\n%s", body)
		}
	}
}
