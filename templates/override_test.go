package templates

import (
	"strings"
	"testing"

	"newsletter/i18n"
)

// TestRenderEmailOverride renders the digest with an HTML template of its
// own: the override's HTML, escaped, with the functions of its language;
// the embedded subject and text; parse errors naming the override's line;
// and output past the cap refused.
func TestRenderEmailOverride(t *testing.T) {
	set := mustLoad(t)
	src := `<p class="own">{{t "email.digest.unsubscribe"}} {{.Subject}} {{range .Articles}}{{.Title}}{{end}}</p>` +
		`<a href="{{.UnsubscribeURL}}">x</a>`
	embedded, err := set.RenderEmailIn(i18n.Ukrainian, "digest", samples["digest"])
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.RenderEmailOverride(i18n.Ukrainian, "digest", src, samples["digest"])
	if err != nil {
		t.Fatal(err)
	}
	want := `<p class="own">` + i18n.Ukrainian.T("email.digest.unsubscribe") + ` S &lt;b&gt;Daily&lt;/b&gt;</p><a href="https://news.example/u">x</a>`
	if r.HTML != want {
		t.Errorf("HTML = %s, want %s", r.HTML, want)
	}
	if r.Subject != embedded.Subject || r.Text != embedded.Text {
		t.Errorf("subject or text differ from the embedded ones: %q %q", r.Subject, r.Text)
	}
	if _, err := set.RenderEmailOverride(i18n.English, "digest", "<p>\n{{end}}", samples["digest"]); err == nil || !strings.Contains(err.Error(), OverrideName+":2:") {
		t.Errorf("parse error = %v, want one naming %s:2", err, OverrideName)
	}
	if _, err := set.RenderEmailOverride(i18n.English, "digest", "{{range 5000000}}0123456789{{end}}", samples["digest"]); err == nil {
		t.Errorf("a render of 50 MB was accepted")
	}
}
