package api

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/i18n"
)

// pageData is what page templates see.
type pageData struct {
	// Lang is the language of the page: its newsletter's, set by the
	// handler; "" is the reader's (readerLang).
	Lang        i18n.Lang `json:"-"`
	Title       string
	Heading     string
	Message     string // an error that is about no one field of a form
	Token       string
	DigestRef   string // the digest an unsubscribe link came from, carried to its form
	ValidFor    string
	Newsletters []choice
	Form        *signupForm  // a sign-up form, when the page offers one
	Confirm     *confirmView // the confirmation pages: where the reader stands
	Digest      *digestView  // the web view of a digest
	Head        *pageHead    // the page's feed and OpenGraph card
	Listing     []newsletterView
	Archive     *archiveView // a newsletter's page

	// Email, Suggestion and AskNewLink say on an error page what Form says
	// now, for error pages of NEWSLETTER_TEMPLATES_DIR made before it.
	Email      string
	Suggestion string
	AskNewLink bool
}

// choice is a newsletter as a form offers it.
type choice struct {
	ID, Name, Description string
	Checked               bool
	lang                  i18n.Lang // of the newsletter's pages and emails
}

// signupForm is a sign-up form as a page shows it (pages/parts.html.tmpl):
// it posts to POST /v1/subscriptions like the site's own boxes.
type signupForm struct {
	ID          string   // prefix of the ids of its elements, unique in the page
	Heading     string   // shown above the form; "" for none
	Newsletters []choice // checkboxes when more than one, else a hidden field
	Email       string   // what the address field holds
	Name        string   // carried along, as signed up with
	Source      string
	Label       string // of the address field
	Button      string
	Hint        string // below the form
	// Error is the one sentence about the address, tied to its field;
	// Suggestion an address the reader may have meant, offered as a button
	// that submits it.
	Error      string
	Suggestion string
	// NewsletterError is the sentence about the choice of newsletters.
	NewsletterError string
}

// wantsHTML reports whether the client asked for a page rather than JSON:
// a browser posting a plain form sends Accept: text/html.
func wantsHTML(c *gin.Context) bool {
	accept := c.GetHeader("Accept")
	return strings.Contains(accept, "text/html") && !strings.HasPrefix(accept, "application/json")
}

// page renders a page template with the given status, for no cache to
// keep, in data.Lang or else the reader's language.
func (s *Server) page(c *gin.Context, status int, name string, data pageData) {
	s.renderPage(c, status, name, data, "no-store")
}

// renderPage renders a page template with the given status and
// Cache-Control, in data.Lang or else the reader's language.
func (s *Server) renderPage(c *gin.Context, status int, name string, data pageData, cacheControl string) {
	lang := data.Lang
	if lang == "" {
		lang = readerLang(c)
	}
	s.render(c, status, lang, name, data, cacheControl)
}

// render renders page name in language lang with data (a pageData, or a
// view that embeds one), with the given status and Cache-Control: the
// page's {{t "key"}} take their messages in lang.
func (s *Server) render(c *gin.Context, status int, lang i18n.Lang, name string, data any, cacheControl string) {
	var buf bytes.Buffer
	if err := s.cfg.Templates.RenderPageIn(&buf, lang, name, data); err != nil {
		s.logger(c).Error("Unable to render page", "page", name, "error", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", cacheControl)
	c.Header("Content-Language", lang.String())
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

// errorHeading is the heading in lang of the error page for code.
func errorHeading(lang i18n.Lang, code string) string {
	if key := "error.heading." + code; i18n.Has(lang, key) {
		return lang.T(key)
	}
	return lang.T("error.title")
}

// errorMessage is what the error page in lang says of e: e's own message
// in English, else the catalog's sentence for its code when there is one.
func errorMessage(lang i18n.Lang, e *newsletter.Error) string {
	if key := "error.message." + e.Code; lang != i18n.English && i18n.Has(lang, key) {
		return lang.T(key)
	}
	return e.Message
}

// errorPage shows e to a reader. Where the reader can act on it, the page
// offers the signup form again. It is in the language of the newsletters
// of the form, else the reader's.
func (s *Server) errorPage(c *gin.Context, status int, e *newsletter.Error) {
	lang := readerLang(c)
	data := pageData{Lang: lang, Title: lang.T("error.title"), Heading: errorHeading(lang, e.Code), Message: errorMessage(lang, e)}
	switch e.Code {
	case newsletter.EINVALIDEMAIL, newsletter.EUNKNOWNNEWSLETTER:
		data = s.signupErrorPage(c, e)
	case newsletter.EINVALIDTOKEN, newsletter.EEXPIREDTOKEN:
		data.AskNewLink, data.Newsletters = true, s.choices(c, nil)
		if len(data.Newsletters) > 0 {
			data.Form = &signupForm{ID: "signup", Newsletters: data.Newsletters,
				Label: lang.T("form.new_link_label"), Button: lang.T("form.new_link_button")}
		}
	}
	s.page(c, status, "error", data)
}

// signupErrorPage is the sign-up form again, as the reader filled it, with
// the one sentence about what was wrong tied to the field it is about: the
// address (with the address the reader may have meant as a button) or the
// choice of newsletters.
func (s *Server) signupErrorPage(c *gin.Context, e *newsletter.Error) pageData {
	posted := slices.Concat(c.PostFormArray("newsletter"), c.PostFormArray("newsletters"))
	chosen := s.newsletterChoices(c, posted)
	lang := langOfChoices(c, chosen)
	form := &signupForm{ID: "signup", Email: submittedEmail(c.PostForm("email"), c.PostForm("suggested_email")), Name: c.PostForm("name"), Source: c.PostForm("source"),
		Label: lang.T("form.email_label"), Button: lang.T("form.subscribe")}
	heading := lang.T("form.subscribe")
	if len(chosen) > 0 {
		heading = lang.T("form.subscribe_to", joinNames(lang, chosen))
	}
	if e.Code == newsletter.EUNKNOWNNEWSLETTER || len(chosen) == 0 {
		form.Newsletters = s.choices(c, posted)
	} else {
		form.Newsletters = checkAll(chosen)
	}
	if e.Code == newsletter.EUNKNOWNNEWSLETTER {
		form.NewsletterError = errorMessage(lang, e)
	} else {
		form.Error, form.Suggestion = errorMessage(lang, e), e.Suggestion
	}
	return pageData{Lang: lang, Title: lang.T("error.title_of", heading), Heading: heading, Form: form,
		Email: form.Email, Suggestion: e.Suggestion, Newsletters: form.Newsletters}
}

func checkAll(list []choice) []choice {
	for i := range list {
		list[i].Checked = true
	}
	return list
}

// joinNames names the newsletters of list as a sentence in lang does:
// "A", "A and B", "A, B and C".
func joinNames(lang i18n.Lang, list []choice) string {
	names := make([]string, len(list))
	for i, c := range list {
		names[i] = c.Name
	}
	return lang.List(names)
}

// choices lists every newsletter, checking those in checked (or the only one).
func (s *Server) choices(c *gin.Context, checked []string) []choice {
	all, err := s.cfg.Newsletters.Newsletters(c)
	if err != nil {
		s.logger(c).Error("Unable to list newsletters", "error", err)
		return nil
	}
	list := make([]choice, 0, len(all))
	for _, n := range all {
		list = append(list, choice{ID: n.ID, Name: n.Name, Description: n.Description,
			Checked: len(all) == 1 || slices.Contains(checked, n.ID), lang: langOf(n)})
	}
	return list
}

func (s *Server) handleDemo(c *gin.Context) {
	lang := readerLang(c)
	s.page(c, http.StatusOK, "demo", pageData{Lang: lang, Title: lang.T("newsletters"), Newsletters: s.choices(c, nil)})
}

// newsletterChoices returns the choices for the given newsletter ids.
func (s *Server) newsletterChoices(c *gin.Context, ids []string) []choice {
	var list []choice
	for i, id := range ids {
		if slices.Contains(ids[:i], id) {
			continue
		}
		n, err := s.cfg.Newsletters.Newsletter(c, id)
		if err == nil && n != nil {
			list = append(list, choice{ID: n.ID, Name: n.Name, lang: langOf(n)})
		}
	}
	return list
}

// location returns the time zone of newsletter n, UTC when it has none, for
// the dates a page shows.
func location(n *newsletter.Newsletter) *time.Location {
	if loc, err := time.LoadLocation(n.Timezone); err == nil && n.Timezone != "" {
		return loc
	}
	return time.UTC
}
