package api

import (
	"bytes"
	"net/http"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"newsletter"
)

// pageData is what page templates see.
type pageData struct {
	Title       string
	Heading     string
	Message     string
	Suggestion  string
	Email       string
	Token       string
	ValidFor    string
	AskNewLink  bool
	Newsletters []choice
}

// choice is a newsletter as a form offers it.
type choice struct {
	ID, Name, Description string
	Checked               bool
}

// wantsHTML reports whether the client asked for a page rather than JSON:
// a browser posting a plain form sends Accept: text/html.
func wantsHTML(c *gin.Context) bool {
	accept := c.GetHeader("Accept")
	return strings.Contains(accept, "text/html") && !strings.HasPrefix(accept, "application/json")
}

// page renders a page template with the given status.
func (s *Server) page(c *gin.Context, status int, name string, data pageData) {
	var buf bytes.Buffer
	if err := s.cfg.Templates.RenderPage(&buf, name, data); err != nil {
		s.logger(c).Error("Unable to render page", "page", name, "error", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "no-store")
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
	data := pageData{Title: "Something went wrong", Heading: errorHeading(e.Code), Message: e.Message, Suggestion: e.Suggestion}
	switch e.Code {
	case newsletter.EINVALIDEMAIL, newsletter.EUNKNOWNNEWSLETTER:
		data.Email = c.PostForm("email")
		data.Newsletters = s.choices(c, c.PostFormArray("newsletter"))
	case newsletter.EINVALIDTOKEN, newsletter.EEXPIREDTOKEN:
		data.AskNewLink = true
		data.Newsletters = s.choices(c, nil)
	}
	s.page(c, status, "error", data)
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
	for _, id := range ids {
		n, err := s.cfg.Newsletters.Newsletter(c, id)
		if err == nil && n != nil {
			list = append(list, choice{ID: n.ID, Name: n.Name})
		}
	}
	return list
}
