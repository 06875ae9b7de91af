package api

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
)

// pageData is what page templates see.
type pageData struct {
	Title       string
	Heading     string
	Message     string // an error that is about no one field of a form
	Token       string
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

// page renders a page template with the given status, for no cache to keep.
func (s *Server) page(c *gin.Context, status int, name string, data pageData) {
	s.renderPage(c, status, name, data, "no-store")
}

// renderPage renders a page template with the given status and
// Cache-Control.
func (s *Server) renderPage(c *gin.Context, status int, name string, data pageData, cacheControl string) {
	var buf bytes.Buffer
	if err := s.cfg.Templates.RenderPage(&buf, name, data); err != nil {
		s.logger(c).Error("Unable to render page", "page", name, "error", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", cacheControl)
	c.Data(status, "text/html; charset=utf-8", buf.Bytes())
	c.Abort()
}

var errorHeadings = map[string]string{
	newsletter.EINVALIDEMAIL:      "Please check your email address",
	newsletter.EUNKNOWNNEWSLETTER: "Please choose a newsletter",
	newsletter.EINVALIDTOKEN:      "This link does not work",
	newsletter.EEXPIREDTOKEN:      "This link has expired",
	newsletter.ERATELIMITED:       "Please try again later",
	newsletter.ENOTFOUND:          "Page not found",
}

// errorHeading is the heading of the error page for code.
func errorHeading(code string) string {
	if h, ok := errorHeadings[code]; ok {
		return h
	}
	return "Something went wrong"
}

// errorPage shows e to a reader. Where the reader can act on it, the page
// offers the signup form again.
func (s *Server) errorPage(c *gin.Context, status int, e *newsletter.Error) {
	data := pageData{Title: "Something went wrong", Heading: errorHeading(e.Code), Message: e.Message}
	switch e.Code {
	case newsletter.EINVALIDEMAIL, newsletter.EUNKNOWNNEWSLETTER:
		data = s.signupErrorPage(c, e)
	case newsletter.EINVALIDTOKEN, newsletter.EEXPIREDTOKEN:
		data.AskNewLink, data.Newsletters = true, s.choices(c, nil)
		if len(data.Newsletters) > 0 {
			data.Form = &signupForm{ID: "signup", Newsletters: data.Newsletters,
				Label: "Enter your email to get a new link", Button: "Send me a new link"}
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
	form := &signupForm{ID: "signup", Email: submittedEmail(c.PostForm("email"), c.PostForm("suggested_email")), Name: c.PostForm("name"), Source: c.PostForm("source"),
		Label: "Enter your email to subscribe", Button: "Subscribe"}
	chosen := s.newsletterChoices(c, posted)
	heading := "Subscribe"
	if len(chosen) > 0 {
		heading = "Subscribe to " + joinNames(chosen)
	}
	if e.Code == newsletter.EUNKNOWNNEWSLETTER || len(chosen) == 0 {
		form.Newsletters = s.choices(c, posted)
	} else {
		form.Newsletters = checkAll(chosen)
	}
	if e.Code == newsletter.EUNKNOWNNEWSLETTER {
		form.NewsletterError = e.Message
	} else {
		form.Error, form.Suggestion = e.Message, e.Suggestion
	}
	return pageData{Title: "Error: " + heading, Heading: heading, Form: form,
		Email: form.Email, Suggestion: e.Suggestion, Newsletters: form.Newsletters}
}

func checkAll(list []choice) []choice {
	for i := range list {
		list[i].Checked = true
	}
	return list
}

// joinNames names the newsletters of list as a sentence does: "A", "A and
// B", "A, B and C".
func joinNames(list []choice) string {
	var b strings.Builder
	for i, c := range list {
		b.WriteString(separator(i, len(list)))
		b.WriteString(c.Name)
	}
	return b.String()
}

// separator is what goes before item i of n in a list in a sentence.
func separator(i, n int) string {
	switch {
	case i == 0:
		return ""
	case i == n-1:
		return " and "
	}
	return ", "
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
			Checked: len(all) == 1 || slices.Contains(checked, n.ID)})
	}
	return list
}

func (s *Server) handleDemo(c *gin.Context) {
	s.page(c, http.StatusOK, "demo", pageData{Title: "Newsletters", Newsletters: s.choices(c, nil)})
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
			list = append(list, choice{ID: n.ID, Name: n.Name})
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
