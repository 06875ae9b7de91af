package digests

import (
	"context"
	"encoding/json"
	"errors"
	"html"
	"strings"

	"github.com/redis/go-redis/v9"
	"github.com/vanng822/go-premailer/premailer"

	"newsletter"
	"newsletter/articles"
	"newsletter/i18n"
	"newsletter/templates"
)

// Placeholders stand in the shared body for the parts that differ per
// recipient. They are plain words, so template escaping and CSS inlining
// leave them as they are.
const (
	placeholderGreeting    = "x-nl-greeting-x"
	placeholderUnsubscribe = "x-nl-unsubscribe-url-x"
	placeholderPreferences = "x-nl-preferences-url-x"
)

// Body is a digest rendered once for everyone, with placeholders.
type Body struct {
	Subject string
	HTML    string
	Text    string
	// Language is the language it is written in, of its greeting too; ""
	// (a body stored before bodies had one) is the default.
	Language i18n.Lang `json:",omitempty"`
	// OpenPixel is the open pixel's tag in HTML, which the web view
	// leaves out; "" when opens are not tracked.
	OpenPixel string `json:",omitempty"`
}

// view is what the digest templates see.
type view struct {
	Newsletter     *newsletter.Newsletter
	Subject        string
	Intro          string
	Articles       []articles.Article
	Date           string
	WebURL         string
	Greeting       string
	UnsubscribeURL string
	PreferencesURL string
	// Preheader is the hidden line an inbox shows after the subject: the
	// intro, else the first article's title.
	Preheader string
	// PostalAddress is the sender's postal address of the footer: the
	// newsletter's own, else the service's; "" prints none.
	PostalAddress string
	// The newsletter's branding (newsletter/branding.go); "" for none.
	LogoURL, Accent, FooterText string
	// template is the HTML template to render with in place of the
	// embedded one (WithTemplate); "" is the embedded one.
	template string
	// links makes the signed click links and open pixel (WithLinks);
	// nil links straight to the articles.
	links *Links
}

// A RenderOption sets what Render takes from the service rather than from
// the digest or its newsletter.
type RenderOption func(*view)

// WithPostalAddress has Render print addr in the footer of a newsletter
// that has no postal address of its own.
func WithPostalAddress(addr string) RenderOption {
	return func(v *view) {
		if v.PostalAddress == "" {
			v.PostalAddress = addr
		}
	}
}

// WithTemplate has Render write the HTML of the digest with src, a
// newsletter's own digest template (Newsletter.DigestTemplate), in place
// of the embedded one; "" keeps the embedded one. The subject and text
// stay the embedded ones.
func WithTemplate(src string) RenderOption {
	return func(v *view) { v.template = src }
}

// WithLinks has Render send every link to an article through its signed
// click link (Links.Click), and add the open pixel when l tracks opens;
// nil links straight to the articles, as previews do.
func WithLinks(l *Links) RenderOption {
	return func(v *view) { v.links = l }
}

// Render renders digest d of newsletter n into a shared body, with the CSS
// inlined into the HTML for mail clients that drop style sheets.
func Render(tpl *templates.Set, d *Digest, n *newsletter.Newsletter, baseURL string, opts ...RenderOption) (*Body, error) {
	lang := i18n.Of(n.Lang())
	v := view{Newsletter: n, Subject: d.Subject, Intro: d.Intro, Articles: d.Articles,
		Date: lang.LongDate(d.Date().In(location(n))), WebURL: baseURL + "/digests/" + d.ID,
		Greeting: placeholderGreeting, UnsubscribeURL: placeholderUnsubscribe, PreferencesURL: placeholderPreferences,
		Preheader: preheader(d), PostalAddress: n.PostalAddress,
		LogoURL: n.LogoURL, Accent: n.AccentColor, FooterText: n.FooterText}
	for _, opt := range opts {
		opt(&v)
	}
	v.Articles = trackedArticles(v.links, d)
	r, err := renderEmail(tpl, lang, v)
	if err != nil {
		return nil, err
	}
	inlined, err := inlineCSS(r.HTML)
	if err != nil {
		return nil, err
	}
	b := &Body{Subject: d.Subject, HTML: inlined, Text: r.Text, Language: lang}
	if v.links != nil && v.links.TrackOpens && d.ID != "" {
		b.addOpenPixel(v.links.Open(d.ID))
	}
	return b, nil
}

// renderEmail renders the digest email of v in lang, with v's own HTML
// template when it has one.
func renderEmail(tpl *templates.Set, lang i18n.Lang, v view) (*templates.Rendered, error) {
	if v.template == "" {
		return tpl.RenderEmailIn(lang, "digest", v)
	}
	return tpl.RenderEmailOverride(lang, "digest", v.template, v)
}

// preheader is the line an inbox shows of digest d after its subject:
// its intro, else its first article's title (the lead's, as articles
// come in order).
func preheader(d *Digest) string {
	if d.Intro != "" || len(d.Articles) == 0 {
		return d.Intro
	}
	return d.Articles[0].Title
}

// inlineCSS moves the style sheet's rules into style attributes. It keeps
// the class attributes, which the dark-mode media query, left in the
// style sheet, selects by.
func inlineCSS(doc string) (string, error) {
	p, err := premailer.NewPremailerFromString(doc, &premailer.Options{KeepBangImportant: true})
	if err != nil {
		return "", err
	}
	return p.Transform()
}

// Personal returns the HTML and text of the body for one recipient: the
// greeting, and the links to unsubscribe and to the preference page.
func (b *Body) Personal(name, unsubscribeURL, preferencesURL string) (htmlPart, textPart string) {
	greeting := greeting(b.Language, name)
	return splice(b.HTML, html.EscapeString(greeting), html.EscapeString(unsubscribeURL), html.EscapeString(preferencesURL)),
		splice(b.Text, greeting, unsubscribeURL, preferencesURL)
}

// greeting is how a digest in language lang greets a reader: "Hello,"
// or "Hello Ann,".
func greeting(lang i18n.Lang, name string) string {
	if name == "" {
		return lang.T("greeting")
	}
	return lang.T("greeting.name", name)
}

// splice puts the personal parts in place of the placeholders. Plain
// replacements beat a strings.Replacer built per recipient by half.
func splice(body, greeting, unsubscribeURL, preferencesURL string) string {
	body = strings.ReplaceAll(strings.ReplaceAll(body, placeholderGreeting, greeting), placeholderUnsubscribe, unsubscribeURL)
	return strings.ReplaceAll(body, placeholderPreferences, preferencesURL)
}

// Public returns the HTML for the web view: no name, no personal link,
// no open pixel.
func (b *Body) Public(baseURL string) string {
	htmlPart, _ := b.Personal("", baseURL+"/", baseURL+"/newsletters")
	if b.OpenPixel != "" {
		htmlPart = strings.Replace(htmlPart, b.OpenPixel, "", 1)
	}
	return htmlPart
}

// SaveBody stores the rendered body of digest id, keeping the first one if
// two workers raced to render it, and returns the one kept.
func (s *Store) SaveBody(ctx context.Context, id string, b *Body) (*Body, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	if b.OpenPixel != "" { // its opens are counted from now: the API shows them, 0 at first
		if err := s.rdb.SetNX(ctx, keyOpens(id), 0, 0).Err(); err != nil {
			return nil, err
		}
	}
	ok, err := s.rdb.SetNX(ctx, keyBody(id), raw, 0).Result()
	if err != nil || ok {
		return b, err
	}
	return s.Body(ctx, id)
}

// Body returns the stored body of digest id, or nil if it was not rendered yet.
func (s *Store) Body(ctx context.Context, id string) (*Body, error) {
	raw, err := s.rdb.Get(ctx, keyBody(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var b Body
	return &b, json.Unmarshal(raw, &b)
}
