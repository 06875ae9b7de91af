package templates

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

type view struct{ ID, Name, Description string }

// samples holds data for every email and page, with markup in every field a
// reader or editor can set.
var samples = map[string]any{
	"confirm": map[string]any{"Email": "a@example.org", "Link": "https://news.example/confirm?token=T",
		"NotMeLink": "https://news.example/not-me?token=T", "ValidFor": "7 days", "Newsletters": []view{{"daily", "<b>Daily</b>", ""}}},
	"welcome": map[string]any{"Email": "a@example.org", "Newsletter": view{"daily", "<b>Daily</b>", "<i>desc</i>"},
		"PostalAddress": "<m> 1 Main Street, Kyiv"},
	"digest": map[string]any{"Newsletter": view{"daily", "<b>Daily</b>", ""}, "Subject": "S", "Intro": "<i>",
		"Date": "May 1, 2026", "WebURL": "https://news.example/digests/1", "Greeting": "Hello,", "UnsubscribeURL": "https://news.example/u",
		"Preheader": "<i>", "PostalAddress": "<m> 1 Main Street, Kyiv",
		"Articles": []map[string]any{{"Title": "<b>Daily</b>", "URL": "https://news.example/a", "Summary": "<m>", "Section": "World", "Author": "A",
			"ImageURL": "https://news.example/a.jpg", "ImageAlt": "<m>"}}},
	"address_confirm": map[string]any{"OldEmail": "<old>@example.org", "NewEmail": "<new>@example.org", "ConfirmURL": "https://news.example/preferences/address?token=T"},
	"address_notice":  map[string]any{"OldEmail": "<old>@example.org", "NewEmail": "<new>@example.org", "CancelURL": "https://news.example/preferences/address/cancel?token=T"},
}

var pageSample = map[string]any{"Title": "<t>", "Heading": "<h>", "Message": "<m>",
	"Token": "<tok>", "ValidFor": "7 days",
	"Newsletters": sampleChoices,
	"Form": map[string]any{"ID": "f", "Heading": "<h>", "Newsletters": sampleChoices, "Email": "<e>", "Name": "<m>",
		"Source": "<m>", "Label": "<m>", "Button": "<m>", "Hint": "<m>", "Error": "<m>", "Suggestion": "<m>", "NewsletterError": "<m>"},
	"Confirm": map[string]any{"Email": "<m>", "ToConfirm": sampleStanding, "Confirmed": sampleStanding,
		"Waiting": sampleStanding, "Unsubscribed": sampleStanding},
	"Digest": map[string]any{"Newsletter": "<b>Daily</b>", "Subject": "<m>", "Intro": "<m>", "Date": "<m>",
		"Articles": []map[string]any{{"Title": "<b>Daily</b>", "URL": "https://news.example/a", "Summary": "<m>",
			"Section": "<m>", "Author": "<m>", "ImageURL": "https://news.example/a.png"}}}}

var sampleChoices = []map[string]any{{"ID": "daily", "Name": "<b>Daily</b>", "Description": "<i>d</i>", "Checked": true},
	{"ID": "weekly", "Name": "<b>Daily</b>", "Description": "<m>", "Checked": false}}

var sampleStanding = []map[string]any{{"ID": "daily", "Name": "<b>Daily</b>", "Date": "<m>", "Sep": ""},
	{"ID": "weekly", "Name": "<b>Daily</b>", "Date": "", "Sep": " and "}}

func TestEveryFileIsUsed(t *testing.T) {
	used := map[string]bool{"pages/layout.html.tmpl": true}
	for _, p := range append(Pages, PageParts...) {
		used["pages/"+p+".html.tmpl"] = true
	}
	for _, e := range Emails {
		for _, kind := range []string{"subject", "text", "html"} {
			used["email/"+e+"."+kind+".tmpl"] = true
		}
	}
	fs.WalkDir(embedded, ".", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !used[path] {
			t.Errorf("%s is embedded but no page or email uses it", path)
		}
		return nil
	})
}

func TestRenderEscapesEverything(t *testing.T) {
	set, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range Pages {
		var buf bytes.Buffer
		if err := set.RenderPage(&buf, name, pageSample); err != nil {
			t.Fatalf("page %s: %v", name, err)
		}
		if strings.Contains(buf.String(), "<b>Daily</b>") || strings.Contains(buf.String(), "<m>") {
			t.Errorf("page %s shows markup unescaped:\n%s", name, buf.String())
		}
	}
	for _, name := range Emails {
		r, err := set.RenderEmail(name, samples[name])
		if err != nil {
			t.Fatalf("email %s: %v", name, err)
		}
		if r.Subject == "" || r.Text == "" || strings.Contains(r.HTML, "<b>Daily</b>") {
			t.Errorf("email %s: subject %q, text %d bytes, HTML escaped: %v", name, r.Subject, len(r.Text), !strings.Contains(r.HTML, "<b>Daily</b>"))
		}
	}
}

func TestDirectoryOverridesOneFile(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "email"), 0o755)
	os.WriteFile(filepath.Join(dir, "email", "welcome.subject.tmpl"), []byte("Hello from {{.Newsletter.Name}}"), 0o644)
	set, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.RenderEmail("welcome", samples["welcome"])
	if err != nil {
		t.Fatal(err)
	}
	if r.Subject != "Hello from <b>Daily</b>" {
		t.Fatalf("subject = %q, want the override", r.Subject)
	}
	if !strings.Contains(r.Text, "Welcome to") {
		t.Fatalf("text part lost the embedded template: %q", r.Text)
	}
}

func TestLoadReportsBrokenOverride(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "pages"), 0o755)
	os.WriteFile(filepath.Join(dir, "pages", "demo.html.tmpl"), []byte("{{define \"content\"}}{{.Missing"), 0o644)
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), "demo") {
		t.Fatalf("Load = %v, want an error naming the page", err)
	}
}

func TestHumanDuration(t *testing.T) {
	for d, want := range map[string]string{"168h": "7 days", "24h": "24 hours", "90m": "90 minutes", "30s": "30s"} {
		if got := HumanDuration(mustDuration(t, d)); got != want {
			t.Errorf("HumanDuration(%s) = %q, want %q", d, got, want)
		}
	}
}

func mustDuration(t *testing.T, s string) time.Duration {
	t.Helper()
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestConfirmCarriesBothLinks(t *testing.T) {
	set, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	r, err := set.RenderEmail("confirm", samples["confirm"])
	if err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{"https://news.example/confirm?token=T", "https://news.example/not-me?token=T"} {
		if !strings.Contains(r.Text, link) || !strings.Contains(r.HTML, `href="`+link+`"`) {
			t.Errorf("confirmation email lacks %s in its text or HTML part", link)
		}
	}
}

func TestNotMePagePostsTheToken(t *testing.T) {
	set, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := set.RenderPage(&buf, "notme", map[string]any{"Title": "This wasn't me", "Token": "a&b"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<form method="post" action="/not-me">`, `name="token" value="a&amp;b"`} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("not-me page lacks %s:\n%s", want, buf.String())
		}
	}
}
