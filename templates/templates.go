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
	texttemplate "text/template"
)

//go:embed email pages
var embedded embed.FS

// Emails lists the emails: each has name.subject.tmpl, name.text.tmpl and
// name.html.tmpl under email/.
var Emails = []string{"confirm", "welcome", "digest"}

// Pages lists the pages under pages/, each rendered inside pages/layout.html.tmpl.
var Pages = []string{"demo", "subscribed", "error", "confirm", "confirmed", "unsubscribe", "unsubscribed", "notme", "notme_done"}

// Set is every template, parsed.
type Set struct {
	pages  map[string]*htmltemplate.Template
	emails map[string]*email
}

type email struct {
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template
}

// Load parses the embedded templates, each replaced by the file of the same
// path under dir when dir is not empty and holds one.
func Load(dir string) (*Set, error) {
	fsys := fs.FS(embedded)
	if dir != "" {
		fsys = overlay{top: os.DirFS(dir), base: embedded}
	}
	set := &Set{pages: map[string]*htmltemplate.Template{}, emails: map[string]*email{}}
	for _, name := range Pages {
		t, err := htmltemplate.New("layout.html.tmpl").ParseFS(fsys, "pages/layout.html.tmpl", "pages/"+name+".html.tmpl")
		if err != nil {
			return nil, fmt.Errorf("templates: page %s: %w", name, err)
		}
		set.pages[name] = t
	}
	for _, name := range Emails {
		e, err := loadEmail(fsys, name)
		if err != nil {
			return nil, fmt.Errorf("templates: email %s: %w", name, err)
		}
		set.emails[name] = e
	}
	return set, nil
}

func loadEmail(fsys fs.FS, name string) (*email, error) {
	base := "email/" + name
	subject, err := texttemplate.New(name+".subject.tmpl").ParseFS(fsys, base+".subject.tmpl")
	if err != nil {
		return nil, err
	}
	text, err := texttemplate.New(name+".text.tmpl").ParseFS(fsys, base+".text.tmpl")
	if err != nil {
		return nil, err
	}
	html, err := htmltemplate.New(name+".html.tmpl").ParseFS(fsys, base+".html.tmpl")
	if err != nil {
		return nil, err
	}
	return &email{subject: subject, text: text, html: html}, nil
}

// RenderPage writes page name, executed with data, to w.
func (s *Set) RenderPage(w io.Writer, name string, data any) error {
	t, ok := s.pages[name]
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

// RenderEmail executes email name with data.
func (s *Set) RenderEmail(name string, data any) (*Rendered, error) {
	e, ok := s.emails[name]
	if !ok {
		return nil, fmt.Errorf("templates: no email %q", name)
	}
	var subject, text, html bytes.Buffer
	err := errors.Join(e.subject.Execute(&subject, data), e.text.Execute(&text, data), e.html.Execute(&html, data))
	if err != nil {
		return nil, fmt.Errorf("templates: email %s: %w", name, err)
	}
	return &Rendered{Subject: string(bytes.TrimSpace(subject.Bytes())), Text: text.String(), HTML: html.String()}, nil
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
