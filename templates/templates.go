// Package templates holds the email and page templates, embedded in the
// binary and parsed once. A directory given to Load overrides any embedded
// file by the same path, so a site can restyle its emails and pages without
// a rebuild.
package templates

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"os"
	"path"
	"slices"
	texttemplate "text/template"

	"newsletter/i18n"
)

//go:embed email pages
var embedded embed.FS

// adminFS holds the editor pages. They are one template set, for Gin, so
// they live apart from the reader pages; Load fails when a file in it is
// neither the layout nor one of AdminPages.
//
//go:embed admin
var adminFS embed.FS

// Emails lists the emails: each has name.subject.tmpl, name.text.tmpl and
// name.html.tmpl under email/.
var Emails = []string{"confirm", "welcome", "digest", "address_confirm", "address_notice"}

// Pages lists the pages under pages/, each rendered inside pages/layout.html.tmpl.
var Pages = []string{"demo", "subscribed", "error", "confirm", "confirmed", "unsubscribe", "unsubscribed", "notme", "notme_done", "digest", "newsletters", "newsletter", "embed", "preferences"}

// PageParts lists the files under pages/ that every page may use: the
// sign-up form and the other pieces that several pages show.
var PageParts = []string{"parts"}

// AdminPages lists the editor pages under admin/: each file defines a
// template of its name, framed by admin_top and admin_bottom from
// admin/layout.html.tmpl.
var AdminPages = []string{"login", "index", "newsletter", "send", "digest", "history", "subscribers", "suppressions", "error", "articles", "article"}

// Set is every template, parsed. Reader pages and emails are parsed once
// per language (package i18n), each bound to the functions of its
// language (funcs.go); the editor pages are English only.
type Set struct {
	pages  map[i18n.Lang]map[string]*htmltemplate.Template
	emails map[i18n.Lang]map[string]*email
	admin  *htmltemplate.Template
}

type email struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// Load parses the embedded templates, each replaced by the file of the same
// path under dir when dir is not empty and holds one.
func Load(dir string) (*Set, error) {
	fsys, afs := fs.FS(embedded), fs.FS(adminFS)
	if dir != "" {
		fsys = overlay{top: os.DirFS(dir), base: embedded}
		afs = overlay{top: os.DirFS(dir), base: adminFS}
	}
	set := &Set{pages: map[i18n.Lang]map[string]*htmltemplate.Template{}, emails: map[i18n.Lang]map[string]*email{}}
	for _, l := range i18n.All() {
		pages, err := loadPages(fsys, l)
		if err != nil {
			return nil, err
		}
		emails, err := loadEmails(fsys, l)
		if err != nil {
			return nil, err
		}
		set.pages[l], set.emails[l] = pages, emails
	}
	admin, err := loadAdmin(afs)
	if err != nil {
		return nil, fmt.Errorf("templates: admin: %w", err)
	}
	set.admin = admin
	return set, nil
}

// loadPages parses every page of Pages for language l.
func loadPages(fsys fs.FS, l i18n.Lang) (map[string]*htmltemplate.Template, error) {
	common := []string{"pages/layout.html.tmpl"}
	for _, part := range PageParts {
		common = append(common, "pages/"+part+".html.tmpl")
	}
	pages := map[string]*htmltemplate.Template{}
	for _, name := range Pages {
		t, err := htmltemplate.New("layout.html.tmpl").Funcs(htmlFuncs(l)).ParseFS(fsys, append(common, "pages/"+name+".html.tmpl")...)
		if err != nil {
			return nil, fmt.Errorf("templates: page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}

// loadEmails parses every email of Emails for language l.
func loadEmails(fsys fs.FS, l i18n.Lang) (map[string]*email, error) {
	emails := map[string]*email{}
	for _, name := range Emails {
		e, err := loadEmail(fsys, l, name)
		if err != nil {
			return nil, fmt.Errorf("templates: email %s: %w", name, err)
		}
		emails[name] = e
	}
	return emails, nil
}

// loadAdmin parses the layout and every page of the editor pages into one
// template, and checks that each page is defined.
func loadAdmin(fsys fs.FS) (*htmltemplate.Template, error) {
	files := []string{"admin/layout.html.tmpl"}
	for _, name := range AdminPages {
		files = append(files, "admin/"+name+".html.tmpl")
	}
	if err := onlyFiles(adminFS, "admin", files); err != nil {
		return nil, err
	}
	t, err := htmltemplate.New("admin").ParseFS(fsys, files...)
	if err != nil {
		return nil, err
	}
	for _, name := range AdminPages {
		if t.Lookup(name) == nil {
			return nil, fmt.Errorf("admin/%s.html.tmpl does not define %q", name, name)
		}
	}
	return t, nil
}

// onlyFiles returns an error naming the first file under dir of fsys that
// is not in files.
func onlyFiles(fsys fs.FS, dir string, files []string) error {
	return fs.WalkDir(fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && !slices.Contains(files, p) {
			return fmt.Errorf("%s is embedded but no page uses it", p)
		}
		return err
	})
}

// Source returns the embedded file at path, such as
// "email/digest.html.tmpl": for editors to start a template of their own
// from.
func Source(path string) (string, error) {
	raw, err := fs.ReadFile(embedded, path)
	return string(raw), err
}

// Admin returns the editor pages as one template set, each page a template
// named as in AdminPages, for an engine that renders templates by name.
func (s *Set) Admin() *htmltemplate.Template { return s.admin }

func loadEmail(fsys fs.FS, l i18n.Lang, name string) (*email, error) {
	base := "email/" + name
	subject, err := texttemplate.New(name+".subject.tmpl").Funcs(textFuncs(l)).ParseFS(fsys, base+".subject.tmpl")
	if err != nil {
		return nil, err
	}
	text, err := texttemplate.New(name+".text.tmpl").Funcs(textFuncs(l)).ParseFS(fsys, base+".text.tmpl")
	if err != nil {
		return nil, err
	}
	html, err := htmltemplate.New(name+".html.tmpl").Funcs(htmlFuncs(l)).ParseFS(fsys, base+".html.tmpl")
	if err != nil {
		return nil, err
	}
	return &email{subject: subject, text: text, html: html}, nil
}

// RenderPage writes page name, executed with data, to w, in the default
// language (i18n.Default).
func (s *Set) RenderPage(w io.Writer, name string, data any) error {
	return s.RenderPageIn(w, i18n.Default, name, data)
}

// RenderPageIn writes page name in language l, executed with data, to w.
// Its {{t "key"}} calls take their messages in l.
func (s *Set) RenderPageIn(w io.Writer, l i18n.Lang, name string, data any) error {
	t, ok := s.pages[i18n.Of(string(l))][name]
	if !ok {
		return fmt.Errorf("templates: no page %q", name)
	}
	return t.ExecuteTemplate(w, "layout.html.tmpl", data)
}

// Rendered is one email, ready to send.
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// RenderEmail executes email name with data, in the default language
// (i18n.Default).
func (s *Set) RenderEmail(name string, data any) (*Rendered, error) {
	return s.RenderEmailIn(i18n.Default, name, data)
}

// RenderEmailIn executes email name in language l with data.
func (s *Set) RenderEmailIn(l i18n.Lang, name string, data any) (*Rendered, error) {
	e, ok := s.emails[i18n.Of(string(l))][name]
	if !ok {
		return nil, fmt.Errorf("templates: no email %q", name)
	}
	return e.render(name, data)
}

// overlay serves files from top when it has them, else from base.
type overlay struct {
	top, base fs.FS
}

func (o overlay) Open(name string) (fs.File, error) {
	if f, err := o.top.Open(path.Clean(name)); err == nil {
		return f, nil
	}
	return o.base.Open(name)
}

// OverrideName is the name of a template given to RenderEmailOverride, as
// its parse and execution errors name it: "template: override:3: ...".
const OverrideName = "override"

// maxEmailHTML is the most bytes the HTML of an email may come to; a
// template that writes more (an override's loop run wild) fails.
const maxEmailHTML = 4 << 20

// RenderEmailOverride executes email name in language l with data, like
// RenderEmailIn, but its HTML part from src: a template parsed with
// html/template and the functions of the embedded templates, named
// OverrideName. The subject and text parts stay the embedded ones.
func (s *Set) RenderEmailOverride(l i18n.Lang, name, src string, data any) (*Rendered, error) {
	l = i18n.Of(string(l))
	e, ok := s.emails[l][name]
	if !ok {
		return nil, fmt.Errorf("templates: no email %q", name)
	}
	html, err := htmltemplate.New(OverrideName).Funcs(htmlFuncs(l)).Parse(src)
	if err != nil {
		return nil, err
	}
	override := &email{subject: e.subject, text: e.text, html: html}
	return override.render(name, data)
}

// render executes the three parts of e with data; email name is for errors.
func (e *email) render(name string, data any) (*Rendered, error) {
	var subject, text bytes.Buffer
	html := &cappedBuffer{max: maxEmailHTML}
	err := errors.Join(e.subject.Execute(&subject, data), e.text.Execute(&text, data), e.html.Execute(html, data))
	if err != nil {
		return nil, fmt.Errorf("templates: email %s: %w", name, err)
	}
	return &Rendered{Subject: string(bytes.TrimSpace(subject.Bytes())), Text: text.String(), HTML: html.String()}, nil
}

// errTooLong is the error of a render that writes more than it may.
var errTooLong = errors.New("the email is too long")

// cappedBuffer is a bytes.Buffer that refuses to grow beyond max bytes.
type cappedBuffer struct {
	bytes.Buffer
	max int
}

func (b *cappedBuffer) Write(p []byte) (int, error) {
	if b.Len()+len(p) > b.max {
		return 0, errTooLong
	}
	return b.Buffer.Write(p)
}
