package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"newsletter/subscribers"
)

// handleConfirmPage shows what the confirmation link is for: a button that
// confirms while there is something to confirm, else where the reader
// stands (unsubscribed since, say) and a way to subscribe again. It changes
// nothing, so a mail scanner that fetches the link confirms nobody.
func (s *Server) handleConfirmPage(c *gin.Context) {
	token := c.Query("token")
	conf, err := s.cfg.Subscribers.Confirmation(c, token)
	if err != nil {
		s.failPage(c, err)
		return
	}
	v := s.confirmView(c, conf)
	heading := v.heading()
	s.page(c, http.StatusOK, "confirm", pageData{Lang: v.lang, Title: heading, Heading: heading, Token: token, Confirm: v, Form: s.resubscribeForm(v)})
}

// handleConfirm confirms and tells what is true afterwards: a link used
// again after the reader unsubscribed says so, and confirms nothing.
func (s *Server) handleConfirm(c *gin.Context) {
	token, meta := tokenRequest(c)
	conf, err := s.cfg.Subscribers.ConfirmToken(c, token, meta)
	if err != nil {
		s.failPage(c, err)
		return
	}
	answer := confirmAnswerOf(conf)
	if answer.Status == statusConfirmed {
		s.cfg.Metrics.CountConfirmation()
	}
	if wantsJSON(c) {
		c.JSON(http.StatusOK, answer)
		return
	}
	v := s.confirmView(c, conf)
	heading := v.heading()
	if len(v.Confirmed) > 0 {
		heading = v.lang.T("page.confirmed.heading")
	}
	s.page(c, http.StatusOK, "confirmed", pageData{Lang: v.lang, Title: heading, Heading: heading, Confirm: v, Form: s.resubscribeForm(v)})
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
