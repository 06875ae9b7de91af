package api_test

import (
	"encoding/json"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"
	nethtml "golang.org/x/net/html"

	"newsletter/api"
)

// siteOrigin is the news site whose pages carry the sign-up boxes.
const siteOrigin = "https://www.news.example"

func withSiteOrigin(cfg *api.Config, _ *redis.Client) { cfg.AllowedOrigins = []string{siteOrigin} }

var textarea = regexp.MustCompile(`(?s)<textarea id="embed-snippet"[^>]*>(.*?)</textarea>`)

// snippetOf returns the HTML to copy that an embed page shows, unescaped
// once, as the web team's clipboard gets it.
func snippetOf(t *testing.T, page string) string {
	t.Helper()
	m := textarea.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("the page has no snippet to copy:\n%s", page)
	}
	return html.UnescapeString(m[1])
}

// box is a sign-up box's form as a browser reads it.
type box struct {
	attrs  map[string]string
	fields map[string]string   // name: value of each input
	types  map[string]string   // name: type of each input
	ids    []string            // every id in the snippet
	labels map[string][]string // label text: names of the inputs inside it
	script string              // src of the script after the form
}

// parseBox parses a snippet with an HTML parser.
func parseBox(t *testing.T, snippet string) box {
	t.Helper()
	doc, err := nethtml.Parse(strings.NewReader(snippet))
	if err != nil {
		t.Fatal(err)
	}
	b := box{attrs: map[string]string{}, fields: map[string]string{}, types: map[string]string{}, labels: map[string][]string{}}
	var walk func(n *nethtml.Node, label string)
	walk = func(n *nethtml.Node, label string) {
		if n.Type == nethtml.ElementNode {
			a := attrMap(n)
			if id, ok := a["id"]; ok {
				b.ids = append(b.ids, id)
			}
			switch n.Data {
			case "form":
				b.attrs = a
			case "input":
				b.fields[a["name"]], b.types[a["name"]] = a["value"], a["type"]
				if label != "" {
					b.labels[label] = append(b.labels[label], a["name"])
				}
			case "label":
				label = strings.Join(strings.Fields(textOf(n)), " ")
			case "script":
				b.script = a["src"]
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c, label)
		}
	}
	walk(doc, "")
	return b
}

func attrMap(n *nethtml.Node) map[string]string {
	m := map[string]string{}
	for _, a := range n.Attr {
		m[a.Key] = a.Val
	}
	return m
}

func textOf(n *nethtml.Node) string {
	if n.Type == nethtml.TextNode {
		return n.Data
	}
	var b strings.Builder
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		b.WriteString(textOf(c))
	}
	return b.String()
}

// TestEmbedPageShowsSnippet: GET /embed/{id} shows the web team a box to
// copy: a plain form posting to the service's absolute subscribe URL with
// exactly the fields the API reads, no id that two boxes on a page could
// share, the newsletter's name escaped, and the script; the same box is
// the page's preview.
func TestEmbedPageShowsSnippet(t *testing.T) {
	e, _ := newAdminEnv(t, withSiteOrigin)
	if r := e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily <b>Brief</b> & \"Co\"","description":"<script>alert(1)</script>"}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT daily = %d %s", r.Status, r.Body)
	}
	page := e.do("GET", "/embed/daily", nil, "Accept", "text/html")
	wantHTML(t, page, http.StatusOK, "<h1>Sign-up box for Daily &lt;b&gt;Brief&lt;/b&gt; &amp; &#34;Co&#34;</h1>", `<h2>Preview</h2>`)
	if strings.Contains(page.Body, "<b>Brief</b>") || strings.Contains(page.Body, "<script>alert") {
		t.Fatalf("the page shows the newsletter's markup unescaped:\n%s", page.Body)
	}
	if got := page.Header.Get("Cache-Control"); got != "public, max-age=300" {
		t.Errorf("Cache-Control = %q", got)
	}
	csp := page.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self' http://news.example.test", "connect-src 'self' http://news.example.test",
		"form-action 'self' http://news.example.test", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy = %q, lacks %q", csp, want)
		}
	}

	snippet := snippetOf(t, page.Body)
	for _, want := range []string{`<strong>Daily &lt;b&gt;Brief&lt;/b&gt; &amp; &#34;Co&#34;</strong>`, `&lt;script&gt;alert(1)&lt;/script&gt;`,
		"Enter your email to subscribe", "* indicates required", `<button type="submit">Subscribe</button>`} {
		if !strings.Contains(snippet, want) {
			t.Errorf("the snippet lacks %s:\n%s", want, snippet)
		}
	}
	if !strings.Contains(page.Body, `<div class="signup-box">`+snippet) {
		t.Errorf("the preview is not the snippet itself:\n%s", page.Body)
	}

	b := parseBox(t, snippet)
	if b.attrs["method"] != "post" || b.attrs["action"] != "http://news.example.test/v1/subscriptions" {
		t.Errorf("form = %v, want a POST to the service's absolute subscribe URL", b.attrs)
	}
	if _, ok := b.attrs["data-nl-signup"]; !ok {
		t.Errorf("form = %v, lacks the data-nl-signup that the script looks for", b.attrs)
	}
	wantFields := map[string]string{"newsletter": "hidden", "source": "hidden", "email": "email", "name": "text", "website": "text"}
	if len(b.types) != len(wantFields) {
		t.Errorf("fields = %v, want %v", b.types, wantFields)
	}
	for name, typ := range wantFields {
		if b.types[name] != typ {
			t.Errorf("field %s has type %q, want %q", name, b.types[name], typ)
		}
	}
	if b.fields["newsletter"] != "daily" || b.fields["website"] != "" {
		t.Errorf("newsletter = %q, website = %q; want daily and an empty honeypot", b.fields["newsletter"], b.fields["website"])
	}
	if len(b.ids) != 0 {
		t.Errorf("the snippet has ids %v: two boxes on one page would share them", b.ids)
	}
	if got := b.labels["Enter your email to subscribe *"]; len(got) != 1 || got[0] != "email" {
		t.Errorf("labels = %v, want the address field inside its label", b.labels)
	}
	if b.script != "http://news.example.test/embed.js" {
		t.Errorf("script = %q, want the service's /embed.js", b.script)
	}
}

// TestEmbedBoxSignsUp posts a box's fields as they stand, from the site's
// origin, as the two ways a reader's browser sends them: a plain form
// post, answered with the service's page, and the script's request
// (form-encoded, asking for JSON), answered with JSON the site's page may
// read, its errors naming the field and the suggested address.
func TestEmbedBoxSignsUp(t *testing.T) {
	e, _ := newAdminEnv(t, withSiteOrigin)
	e.putNewsletter("daily", "Daily Brief")
	b := parseBox(t, snippetOf(t, e.do("GET", "/embed/daily", nil).Body))
	form := func(email string) string {
		v := url.Values{}
		for name, value := range b.fields {
			v.Set(name, value)
		}
		v.Set("email", email)
		return v.Encode()
	}
	fromSite := []string{"Origin", siteOrigin, "Sec-Fetch-Site", "cross-site"}

	wantHTML(t, e.postForm(form("plain@example.org"), fromSite...), http.StatusOK, "Check your inbox to confirm", html.EscapeString(api.ThankYou))
	if s := e.subscriber("plain@example.org"); len(s.Subscriptions) != 1 || s.Subscriptions[0].Newsletter != "daily" {
		t.Fatalf("after the plain form: %+v, want a subscription to daily", s)
	}

	script := func(email string) response {
		return e.do("POST", "/v1/subscriptions", strings.NewReader(form(email)), append([]string{
			"Content-Type", "application/x-www-form-urlencoded;charset=UTF-8", "Accept", "application/json"}, fromSite...)...)
	}
	ok := script("script@example.org")
	var thanks struct{ Status, Message string }
	if err := json.Unmarshal([]byte(ok.Body), &thanks); ok.Status != http.StatusAccepted || err != nil || thanks.Message != api.ThankYou {
		t.Fatalf("the script's signup = %d %s, want 202 with the thank-you message", ok.Status, ok.Body)
	}
	for _, tc := range []struct {
		email, suggestion string
	}{{"not-an-address", ""}, {"reader@gmial.com", "reader@gmail.com"}} {
		t.Run(tc.email, func(t *testing.T) {
			r := script(tc.email)
			got := wantJSONError(t, r, http.StatusUnprocessableEntity, "invalid_email")
			if got.Field != "email" || got.Message != "Please, enter correct email address" || got.Suggestion != tc.suggestion {
				t.Errorf("error = %+v, want the site's sentence for the field email, suggestion %q", got, tc.suggestion)
			}
			if r.Header.Get("Access-Control-Allow-Origin") != siteOrigin {
				t.Errorf("Access-Control-Allow-Origin = %q: the site's script could not read the error", r.Header.Get("Access-Control-Allow-Origin"))
			}
		})
	}
}

// TestEmbedPageNotFound: an unknown or private newsletter has no box, as
// a page or as JSON, to GET or HEAD.
func TestEmbedPageNotFound(t *testing.T) {
	e, _ := newAdminEnv(t)
	if r := e.editor("PUT", "/v1/newsletters/secret", `{"name":"Insiders","public":false}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT secret = %d %s", r.Status, r.Body)
	}
	for _, id := range []string{"nope", "secret"} {
		t.Run(id, func(t *testing.T) {
			page := e.do("GET", "/embed/"+id, nil, "Accept", "text/html")
			wantHTML(t, page, http.StatusNotFound, "Page not found")
			if strings.Contains(page.Body, "Insiders") || strings.Contains(page.Body, "data-nl-signup") {
				t.Errorf("the 404 page tells of the newsletter:\n%s", page.Body)
			}
			wantJSONError(t, e.do("GET", "/embed/"+id, nil, "Accept", "application/json"), http.StatusNotFound, "not_found")
			if head := e.do("HEAD", "/embed/"+id, nil); head.Status != http.StatusNotFound || head.Body != "" {
				t.Errorf("HEAD = %d with %d bytes, want 404 without a body", head.Status, len(head.Body))
			}
		})
	}
}

// TestEmbedHead: HEAD of a box's page and of the script answers as GET
// does, without the body.
func TestEmbedHead(t *testing.T) {
	e, _ := newAdminEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	for _, path := range []string{"/embed/daily", "/embed.js"} {
		get, head := e.do("GET", path, nil), e.do("HEAD", path, nil)
		if head.Status != http.StatusOK || get.Status != http.StatusOK || head.Body != "" {
			t.Errorf("HEAD %s = %d with %d bytes, GET = %d; want 200 without a body", path, head.Status, len(head.Body), get.Status)
		}
		for _, name := range []string{"Content-Type", "Cache-Control", "Content-Security-Policy"} {
			if head.Header.Get(name) != get.Header.Get(name) {
				t.Errorf("HEAD %s: %s = %q, GET's = %q", path, name, head.Header.Get(name), get.Header.Get(name))
			}
		}
	}
}

// TestEmbedScript: /embed.js is a small script with a JavaScript type,
// kept by caches an hour and revalidated by its ETag, loadable by other
// sites' pages; it finds the boxes by the snippet's attribute, announces
// in a live region, and never puts the service's text in as markup.
func TestEmbedScript(t *testing.T) {
	e, _ := newAdminEnv(t)
	r := e.do("GET", "/embed.js", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET /embed.js = %d", r.Status)
	}
	if n := len(r.Body); n >= 5120 || n == 0 {
		t.Errorf("the script is %d bytes, want under 5120", n)
	}
	for name, want := range map[string]string{
		"Content-Type":                 "text/javascript; charset=utf-8",
		"Cache-Control":                "public, max-age=3600",
		"Cross-Origin-Resource-Policy": "cross-origin",
		"X-Content-Type-Options":       "nosniff",
	} {
		if got := r.Header.Get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, want := range []string{"form[data-nl-signup]", `"aria-live", "polite"`, `"role", "status"`, "Accept: \"application/json\""} {
		if !strings.Contains(r.Body, want) {
			t.Errorf("the script lacks %s", want)
		}
	}
	for _, banned := range []string{"innerHTML", "eval(", "document.write"} {
		if strings.Contains(r.Body, banned) {
			t.Errorf("the script uses %s", banned)
		}
	}
	etag := r.Header.Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if again := e.do("GET", "/embed.js", nil, "If-None-Match", etag); again.Status != http.StatusNotModified || again.Body != "" {
		t.Errorf("GET with If-None-Match = %d with %d bytes, want 304", again.Status, len(again.Body))
	}
}

// TestEmbedBoxSpeaksTheNewslettersLanguage: the box of a Ukrainian
// newsletter says everything in Ukrainian, the script's own messages (as
// data attributes) too.
func TestEmbedBoxSpeaksTheNewslettersLanguage(t *testing.T) {
	e := newEnv(t)
	if r := e.editor("PUT", "/v1/newsletters/kyiv", `{"name":"Київ сьогодні","language":"uk"}`); r.Status != http.StatusCreated {
		t.Fatalf("PUT: %d %s", r.Status, r.Body)
	}
	page := e.do("GET", "/embed/kyiv", nil)
	snippet := html.UnescapeString(page.Body)
	for _, want := range []string{`lang="uk"`, "Підписатися", "Дякуємо", `data-nl-mean="Можливо, ви мали на увазі %s?"`, `data-nl-use="Використати %s"`} {
		if !strings.Contains(snippet, want) {
			t.Errorf("the Ukrainian box lacks %q", want)
		}
	}
	if strings.Contains(snippet, "Enter your email") {
		t.Errorf("the Ukrainian box has English labels")
	}
}
