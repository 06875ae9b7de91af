package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"newsletter/subscribers"
)

// handleConfirmPage shows a button that confirms. It changes nothing, so a
// mail scanner that fetches the link confirms nobody.
func (s *Server) handleConfirmPage(c *gin.Context) {
	s.page(c, http.StatusOK, "confirm", pageData{Title: "Confirm your subscription", Token: c.Query("token")})
}

func (s *Server) handleConfirm(c *gin.Context) {
	token, meta := tokenRequest(c)
	nls, err := s.cfg.Subscribers.Confirm(c, token, meta)
	if err != nil {
		s.failPage(c, err)
		return
	}
	s.cfg.Metrics.CountConfirmation()
	if wantsJSON(c) {
		c.JSON(http.StatusOK, gin.H{"status": "confirmed", "newsletters": nls})
		return
	}
	s.page(c, http.StatusOK, "confirmed", pageData{Title: "Subscription confirmed", Newsletters: s.newsletterChoices(c, nls)})
}

// tokenRequest reads the token of a POST from a reader's link (the form
// field, else the query) from a body of bounded size, and the request's
// details for the consent record.
func tokenRequest(c *gin.Context) (string, subscribers.RequestMeta) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxSubscribeBody)
	token := c.PostForm("token")
	if token == "" {
		token = c.Query("token")
	}
	return token, subscribers.RequestMeta{IP: c.ClientIP(), UserAgent: c.GetHeader("User-Agent")}
}

// failPage answers a reader's page request with err: as a page unless the
// client asked for JSON.
func (s *Server) failPage(c *gin.Context, err error) {
	if wantsJSON(c) {
		s.fail(c, err)
		return
	}
	e := s.coded(c, err)
	s.errorPage(c, statusFor(e.Code), e)
}

func wantsJSON(c *gin.Context) bool {
	return c.NegotiateFormat(gin.MIMEHTML, gin.MIMEJSON) == gin.MIMEJSON
}
