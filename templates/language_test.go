package templates

import (
	"bytes"
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"newsletter/i18n"
)

// tCall finds the message keys of {{t "key" ...}} calls, also in
// parentheses: (t "key").
var tCall = regexp.MustCompile(`[{(]\s*t\s+"([^"]+)"`)

// TestEveryTemplateKeyIsInTheCatalog reads every embedded template for the
// keys it asks t for, and fails for one the catalog lacks in a language.
func TestEveryTemplateKeyIsInTheCatalog(t *testing.T) {
	calls := 0
	for _, fsys := range []fs.FS{embedded, adminFS} {
		fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			src, err := fs.ReadFile(fsys, path)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range tCall.FindAllStringSubmatch(string(src), -1) {
				calls++
				for _, l := range i18n.All() {
					if !i18n.Has(l, m[1]) {
						t.Errorf("%s asks for message %q, which has no %s text", path, m[1], l)
					}
				}
			}
			return nil
		})
	}
	if calls < 50 {
		t.Errorf("found %d calls of t in the templates; is the pattern still right?", calls)
	}
}

// untranslated lists the pages and emails not yet written with t and
// {{lang}}: they render in every language, but in English. Take a name off
// once its files use the catalog.
var untranslated = map[string]bool{}

// TestEveryPageAndEmailRendersInEveryLanguage renders each page and email
// in each language: none fails, none shows a missing message, and each
// HTML document names its language.
func TestEveryPageAndEmailRendersInEveryLanguage(t *testing.T) {
	set, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range i18n.All() {
		for _, name := range Pages {
			var buf bytes.Buffer
			if err := set.RenderPageIn(&buf, l, name, pageSample); err != nil {
				t.Fatalf("page %s in %s: %v", name, l, err)
			}
			checkLanguage(t, "page "+name, l, buf.String(), true)
		}
		for _, name := range Emails {
			r, err := set.RenderEmailIn(l, name, samples[name])
			if err != nil {
				t.Fatalf("email %s in %s: %v", name, l, err)
			}
			checkLanguage(t, "email "+name, l, r.Subject+"\n"+r.Text, false)
			checkLanguage(t, "email "+name, l, r.HTML, true)
		}
	}
}

func checkLanguage(t *testing.T, what string, l i18n.Lang, out string, html bool) {
	t.Helper()
	if untranslated[what] {
		return
	}
	if strings.Contains(out, "!(") {
		t.Errorf("%s in %s shows a missing message:\n%s", what, l, out)
	}
	if html && !strings.Contains(out, `<html lang="`+l.String()+`">`) {
		t.Errorf("%s in %s does not say <html lang=%q>:\n%s", what, l, l, out)
	}
}

// TestUkrainianPage: a page and an email rendered in Ukrainian say it and
// speak it, with the arguments of their messages escaped.
func TestUkrainianPage(t *testing.T) {
	set, err := Load("")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := set.RenderPageIn(&buf, i18n.Ukrainian, "confirm", pageSample); err != nil {
		t.Fatal(err)
	}
	page := buf.String()
	for _, want := range []string{`<html lang="uk">`, "<h1>Підтвердьте підписку</h1>", "Підтвердити підписку</button>",
		"<strong>&lt;b&gt;Daily&lt;/b&gt;</strong> та <strong>&lt;b&gt;Daily&lt;/b&gt;</strong>", "на адресу <strong>&lt;m&gt;</strong>"} {
		if !strings.Contains(page, want) {
			t.Errorf("Ukrainian confirmation page lacks %q:\n%s", want, page)
		}
	}
	r, err := set.RenderEmailIn(i18n.Ukrainian, "confirm", samples["confirm"])
	if err != nil {
		t.Fatal(err)
	}
	if want := "Підтвердьте підписку на «<b>Daily</b>»"; r.Subject != want {
		t.Errorf("subject = %q, want %q", r.Subject, want)
	}
	if !strings.Contains(r.Text, "Вітаємо!") || !strings.Contains(r.HTML, "<strong>&lt;b&gt;Daily&lt;/b&gt;</strong>") {
		t.Errorf("Ukrainian confirmation email:\n%s\n%s", r.Text, r.HTML)
	}
}
