package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// handleNotMePage shows a "This wasn't me" button for the link in a
// confirmation email. It changes nothing, so a mail scanner that fetches
// the link suppresses nobody.
func (s *Server) handleNotMePage(c *gin.Context) {
	lang := readerLang(c)
	s.page(c, http.StatusOK, "notme", pageData{Lang: lang, Title: lang.T("notme.heading"), Token: c.Query("token")})
}

// handleNotMe suppresses the address a confirmation token was sent to and
// withdraws its unconfirmed sign-ups: the reader says they did not sign up.
func (s *Server) handleNotMe(c *gin.Context) {
	token, meta := tokenRequest(c)
	if err := s.cfg.Subscribers.NotMe(c, token, meta); err != nil {
		s.notMeFailed(c, err)
		return
	}
	if wantsJSON(c) {
		c.JSON(http.StatusOK, gin.H{"status": "suppressed"})
		return
	}
	lang := readerLang(c)
	s.page(c, http.StatusOK, "notme_done", pageData{Lang: lang, Title: lang.T("page.notme_done.title")})
}

// notMeFailed answers a failed "This wasn't me" as failPage does, but with
// a page that offers no sign-up form: the reader came to leave.
func (s *Server) notMeFailed(c *gin.Context, err error) {
	if wantsJSON(c) {
		s.fail(c, err)
		return
	}
	e, lang := s.coded(c, err), readerLang(c)
	s.page(c, statusFor(e.Code), "error", pageData{Lang: lang, Title: lang.T("error.title"), Heading: errorHeading(lang, e.Code),
		Message: errorMessage(lang, e)})
}
