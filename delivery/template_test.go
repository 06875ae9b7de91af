package delivery_test

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"newsletter"
	"newsletter/subscribers"
)

// ownDigestTemplate is a newsletter's own digest template, marked so the
// test can tell it from the service's.
const ownDigestTemplate = `<!doctype html><html lang="{{lang}}"><body>
<h1 class="own-digest-7c1e">{{.Newsletter.Name}}</h1><p>{{.Greeting}}</p>
{{range .Articles}}<p><a href="{{.URL}}">{{.Title}}</a></p>{{end}}
<p><a href="{{.UnsubscribeURL}}">{{t "email.digest.unsubscribe"}}</a></p></body></html>`

var unsubscribeHref = regexp.MustCompile(`href="https://news\.example/unsubscribe\?token=([^"&]+)[^"]*"`)

// TestDigestWithOwnTemplate sends a digest of a newsletter with its own
// digest template: the email's HTML is that template's, and its
// unsubscribe link carries the reader's own signed token.
func TestDigestWithOwnTemplate(t *testing.T) {
	r := mustRig(t)
	ctx := context.Background()
	n := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief", DigestTemplate: ownDigestTemplate}
	n.Normalize()
	if _, err := r.store.PutNewsletter(ctx, n); err != nil {
		t.Fatal(err)
	}
	r.mustReaders(t, 1)
	_, plan := r.mustStart(t)
	r.mustSendAll(t, plan)
	msgs := r.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the digest", len(msgs))
	}
	e := mustReceived(t, msgs[0])
	if !strings.Contains(e.html, `class="own-digest-7c1e"`) || !strings.Contains(e.html, "A story") {
		t.Fatalf("HTML is not the newsletter's own template:\n%s", e.html)
	}
	m := unsubscribeHref.FindStringSubmatch(e.html)
	if m == nil {
		t.Fatalf("HTML has no unsubscribe link:\n%s", e.html)
	}
	signer, err := subscribers.NewSigner([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if _, nl, err := signer.ParseUnsubscribeToken(m[1]); err != nil || nl != "daily" {
		t.Errorf("the link's token names %q, %v; want daily", nl, err)
	}
	if !strings.Contains(e.text, "https://news.example/unsubscribe?token="+m[1]) {
		t.Errorf("the text part lacks the same unsubscribe link:\n%s", e.text)
	}
}
