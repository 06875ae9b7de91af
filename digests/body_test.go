package digests_test

import (
	"context"
	"fmt"
	"newsletter"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"newsletter/articles"
	"newsletter/digests"
	"newsletter/templates"
)

const (
	scriptTitle  = "<script>alert(1)</script>"
	scriptURL    = "https://example.org/script?a=1&b=2"
	personalName = "<b>Ann</b>"
	personalURL  = baseURL + "/unsubscribe?token=abc.def&x=1"
)

// MustDigest returns a digest of newsletter daily, made at t0, whose first
// article has a script for a title and whose n-1 others are ordinary.
func MustDigest(tb testing.TB, n int) (*digests.Digest, *newsletter.Newsletter) {
	tb.Helper()
	list := []articles.Article{{URL: scriptURL, Title: scriptTitle, Summary: "Salt & pepper", Section: "World", Author: "Ann Lee"}}
	for i := 1; i < n; i++ {
		list = append(list, articles.Article{URL: fmt.Sprintf("https://example.org/story/%d", i),
			Title: fmt.Sprintf("Story number %d of the day", i), Section: "Politics", Author: "Desk",
			Summary: strings.Repeat("A sentence of the summary that says what happened. ", 8)})
	}
	nl := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief", Timezone: "Europe/Kyiv", MaxArticles: 10}
	return &digests.Digest{ID: "0123456789abcdef01234567", Newsletter: "daily", Status: digests.StatusQueued,
		Subject: "Daily Brief — March 15, 2026", Intro: "Good morning.", Articles: list, CreatedAt: t0}, nl
}

// MustBody renders the digest of MustDigest with n articles with the real
// templates.
func MustBody(tb testing.TB, n int) *digests.Body {
	tb.Helper()
	tpl, err := templates.Load("")
	if err != nil {
		tb.Fatalf("templates.Load: %v", err)
	}
	d, nl := MustDigest(tb, n)
	b, err := digests.Render(tpl, d, nl, baseURL)
	if err != nil {
		tb.Fatalf("Render: %v", err)
	}
	return b
}

func TestRenderEscapesHTMLOnly(t *testing.T) {
	b := MustBody(t, 2)
	tests := []struct {
		part, doc string
		want      []string
		dontWant  []string
	}{
		{"html", b.HTML,
			[]string{"&lt;script&gt;alert(1)&lt;/script&gt;", "Salt &amp; pepper", "March 15, 2026", baseURL + "/digests/0123456789abcdef01234567"},
			[]string{scriptTitle, "Salt & pepper", "<script"}},
		{"text", b.Text,
			[]string{scriptTitle, "Salt & pepper", scriptURL, "March 15, 2026", baseURL + "/digests/0123456789abcdef01234567"},
			[]string{"&lt;", "&amp;"}},
	}
	for _, tt := range tests {
		t.Run(tt.part, func(t *testing.T) {
			for _, s := range tt.want {
				if !strings.Contains(tt.doc, s) {
					t.Errorf("%s part lacks %q", tt.part, s)
				}
			}
			for _, s := range tt.dontWant {
				if strings.Contains(tt.doc, s) {
					t.Errorf("%s part has %q", tt.part, s)
				}
			}
		})
	}
	if b.Subject != "Daily Brief — March 15, 2026" {
		t.Fatalf("Subject = %q", b.Subject)
	}
}

func TestRenderInlinesCSS(t *testing.T) {
	doc, err := html.Parse(strings.NewReader(MustBody(t, 2).HTML))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	var style string
	found := false
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "a" && attr(n, "href") == scriptURL {
			style, found = attr(n, "style"), true
		}
	}
	if !found {
		t.Fatalf("no link to %s in the HTML", scriptURL)
	}
	if !strings.Contains(style, "font-size") {
		t.Fatalf("title link style = %q, want the .title rule inlined", style)
	}
}

func attr(n *html.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

// preferencesURL is a preference page link as a recipient's copy gets it.
const preferencesURL = baseURL + "/preferences?token=pref.tag"

func TestPersonal(t *testing.T) {
	b := MustBody(t, 2)
	tests := []struct {
		name                 string
		personName, unsubURL string
		wantHTML, wantText   []string
		dontWantHTML         []string
	}{
		{"with name", personalName, personalURL,
			[]string{"Hello &lt;b&gt;Ann&lt;/b&gt;,", `href="` + baseURL + `/unsubscribe?token=abc.def&amp;x=1"`},
			[]string{"Hello <b>Ann</b>,", "Unsubscribe: " + personalURL},
			[]string{personalName}},
		{"without name", "", personalURL,
			[]string{"Hello,"},
			[]string{"Hello,", personalURL},
			[]string{"Hello ,"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, txt := b.Personal(tt.personName, tt.unsubURL, preferencesURL)
			tt.wantHTML = append(tt.wantHTML, `href="`+preferencesURL+`"`, "Manage your newsletters</a>")
			tt.wantText = append(tt.wantText, "Manage your newsletters: "+preferencesURL)
			checkContains(t, "html", h, tt.wantHTML, append(tt.dontWantHTML, "x-nl-"))
			checkContains(t, "text", txt, tt.wantText, []string{"x-nl-"})
		})
	}
}

func TestPublic(t *testing.T) {
	h := MustBody(t, 2).Public(baseURL)
	checkContains(t, "html", h, []string{"Hello,", `href="` + baseURL + `/"`}, []string{"x-nl-", "unsubscribe?token"})
}

func checkContains(tb testing.TB, part, doc string, want, dontWant []string) {
	tb.Helper()
	for _, s := range want {
		if !strings.Contains(doc, s) {
			tb.Errorf("%s part lacks %q", part, s)
		}
	}
	for _, s := range dontWant {
		if strings.Contains(doc, s) {
			tb.Errorf("%s part has %q", part, s)
		}
	}
}

func TestSaveBodyKeepsFirst(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	first, second := MustBody(t, 1), &digests.Body{Subject: "other", HTML: "<p>other</p>", Text: "other"}
	if b, err := e.svc.Store.Body(ctx, "d1"); b != nil || err != nil {
		t.Fatalf("Body before SaveBody = %v, %v; want nil, nil", b, err)
	}
	for _, b := range []*digests.Body{first, second} {
		kept, err := e.svc.Store.SaveBody(ctx, "d1", b)
		if err != nil {
			t.Fatalf("SaveBody: %v", err)
		}
		if diff := cmp.Diff(first, kept); diff != "" {
			t.Fatalf("SaveBody kept (-want +got):\n%s", diff)
		}
	}
	got, err := e.svc.Store.Body(ctx, "d1")
	if err != nil {
		t.Fatalf("Body: %v", err)
	}
	if diff := cmp.Diff(first, got); diff != "" {
		t.Fatalf("Body (-want +got):\n%s", diff)
	}
}

// BenchmarkPersonal measures one recipient's copy of a body of about 15 KB.
func BenchmarkPersonal(b *testing.B) {
	body := MustBody(b, 14)
	b.ReportAllocs()
	for b.Loop() {
		body.Personal(personalName, personalURL, preferencesURL)
	}
	b.ReportMetric(float64(len(body.HTML)), "html-bytes")
}
