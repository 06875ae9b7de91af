package digests_test

import (
	"strings"
	"testing"

	"newsletter/articles"
	"newsletter/digests"
	"newsletter/templates"
)

// MustLinks returns the links of the tests' service, signed with secrets.
func MustLinks(tb testing.TB, trackOpens bool, secrets ...string) *digests.Links {
	tb.Helper()
	if len(secrets) == 0 {
		secrets = []string{"a-test-secret-of-enough-length"}
	}
	l, err := digests.NewLinks(baseURL, secrets, trackOpens)
	if err != nil {
		tb.Fatalf("NewLinks: %v", err)
	}
	return l
}

// TestLinksRefuseAlteredLinks: a click link verifies only for the digest
// and article it was made for, under any of the service's keys; a link
// made with another secret does not.
func TestLinksRefuseAlteredLinks(t *testing.T) {
	l := MustLinks(t, false)
	const id, art = "0123456789abcdef01234567", "0123456789abcdef0123456789abcdef"
	link := l.Click(id, art)
	prefix := baseURL + "/r/" + id + "/" + art + "/"
	if !strings.HasPrefix(link, prefix) {
		t.Fatalf("Click = %q, want %s<sig>", link, prefix)
	}
	sig := strings.TrimPrefix(link, prefix)
	if !l.ValidClick(id, art, sig) {
		t.Fatalf("ValidClick refuses its own link %q", link)
	}
	other := MustLinks(t, false, "another-secret-of-enough-length")
	rotated := MustLinks(t, false, "a-new-secret-of-enough-length", "a-test-secret-of-enough-length")
	tests := []struct {
		name         string
		l            *digests.Links
		id, art, sig string
		want         bool
	}{
		{"rotated keys still verify", rotated, id, art, sig, true},
		{"other article", l, id, "1123456789abcdef0123456789abcdef", sig, false},
		{"other digest", l, "1123456789abcdef01234567", art, sig, false},
		{"altered signature", l, id, art, "A" + sig[1:], false},
		{"cut signature", l, id, art, sig[:10], false},
		{"no signature", l, id, art, "", false},
		{"other secret", other, id, art, sig, false},
		{"an open signature is no click's", l, id, art, strings.TrimPrefix(l.Open(id), baseURL+"/o/"+id+"/"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.ValidClick(tt.id, tt.art, tt.sig); got != tt.want {
				t.Fatalf("ValidClick(%s, %s, %q) = %v, want %v", tt.id, tt.art, tt.sig, got, tt.want)
			}
		})
	}
	open := strings.TrimPrefix(l.Open(id), baseURL+"/o/"+id+"/")
	if !l.ValidOpen(id, open) || l.ValidOpen("1123456789abcdef01234567", open) {
		t.Fatalf("ValidOpen accepts the wrong pixels or refuses its own")
	}
}

// TestRenderLinksThroughClickLinks: with WithLinks every link to an
// article, in the HTML and the text, the embedded template's and a
// newsletter's own, is the article's signed click link, the same in every
// reader's copy; without it (previews), links go straight to the articles.
func TestRenderLinksThroughClickLinks(t *testing.T) {
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatalf("templates.Load: %v", err)
	}
	l := MustLinks(t, false)
	d, nl := MustDigest(t, 3)
	own := `<html><body>{{range .Articles}}<p><a href="{{.URL}}">{{.Title}}</a></p>{{end}}<a href="{{.UnsubscribeURL}}">Leave</a></body></html>`
	for name, opts := range map[string][]digests.RenderOption{
		"embedded template": {digests.WithLinks(l)},
		"own template":      {digests.WithLinks(l), digests.WithTemplate(own)},
	} {
		t.Run(name, func(t *testing.T) {
			b, err := digests.Render(tpl, d, nl, baseURL, opts...)
			if err != nil {
				t.Fatalf("Render: %v", err)
			}
			ann, _ := b.Personal("Ann", baseURL+"/unsubscribe?token=ann", baseURL+"/preferences?token=ann")
			bob, bobText := b.Personal("Bob", baseURL+"/unsubscribe?token=bob", baseURL+"/preferences?token=bob")
			for _, a := range d.Articles {
				link := l.Click(d.ID, articles.IDOf(a.URL))
				for part, doc := range map[string]string{"ann's html": ann, "bob's html": bob} {
					if !strings.Contains(doc, `href="`+link+`"`) {
						t.Errorf("%s has no link %s to %s", part, link, a.URL)
					}
					if strings.Contains(doc, `href="`+a.URL) || strings.Contains(doc, `href="https://example.org/story`) {
						t.Errorf("%s links straight to %s", part, a.URL)
					}
				}
				if name == "embedded template" && !strings.Contains(bobText, "\n"+link+"\n") {
					t.Errorf("text has no line %s", link)
				}
			}
			if d.Articles[1].URL != "https://example.org/story/1" {
				t.Fatalf("Render changed the digest's own article URL to %q", d.Articles[1].URL)
			}
		})
	}
	b, err := digests.Render(tpl, d, nl, baseURL)
	if err != nil || !strings.Contains(b.HTML, `href="https://example.org/story/1"`) || strings.Contains(b.HTML, "/r/") {
		t.Fatalf("without WithLinks the body should link straight to the articles (err %v)", err)
	}
}

// TestRenderOpenPixel: tracking opens adds one signed 1×1 image to the
// HTML (none to the text), which the web view leaves out; without it
// there is none.
func TestRenderOpenPixel(t *testing.T) {
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatalf("templates.Load: %v", err)
	}
	d, nl := MustDigest(t, 2)
	for _, track := range []bool{false, true} {
		l := MustLinks(t, track)
		b, err := digests.Render(tpl, d, nl, baseURL, digests.WithLinks(l))
		if err != nil {
			t.Fatalf("Render: %v", err)
		}
		pixel := l.Open(d.ID)
		if got := strings.Count(b.HTML, `src="`+pixel+`"`); got != map[bool]int{false: 0, true: 1}[track] {
			t.Fatalf("track opens %v: %d pixels in the HTML", track, got)
		}
		if track && !strings.Contains(b.HTML, `width="1" height="1" alt=""`) {
			t.Errorf("the pixel is not a 1×1 image with an empty alt: %s", b.OpenPixel)
		}
		if strings.Contains(b.Text, "/o/") || strings.Contains(b.Public(baseURL), "/o/"+d.ID) {
			t.Errorf("track opens %v: the text or the web view carries the pixel", track)
		}
	}
}
