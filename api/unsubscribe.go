package api

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// handleUnsubscribePage shows a button that unsubscribes; it changes nothing.
func (s *Server) handleUnsubscribePage(c *gin.Context) {
	token := c.Query("token")
	_, nl, err := s.cfg.Subscribers.Signer.ParseUnsubscribeToken(token)
	if err != nil {
		s.failPage(c, err)
		return
	}
	list := s.newsletterChoices(c, []string{nl})
	lang := langOfChoices(c, list)
	s.page(c, http.StatusOK, "unsubscribe", pageData{Lang: lang, Title: lang.T("unsubscribe"), Token: token, Newsletters: list})
}

// handleUnsubscribe unsubscribes: from the page's form, or one click from
// a mail client (RFC 8058, body List-Unsubscribe=One-Click).
func (s *Server) handleUnsubscribe(c *gin.Context) {
	token, meta := tokenRequest(c)
	if c.PostForm("List-Unsubscribe") == "One-Click" {
		meta.Source = "List-Unsubscribe=One-Click"
	}
	nl, err := s.cfg.Subscribers.Unsubscribe(c, token, meta)
	if err != nil {
		s.failPage(c, err)
		return
	}
	s.cfg.Metrics.CountUnsubscribe()
	if wantsJSON(c) {
		c.JSON(http.StatusOK, gin.H{"status": "unsubscribed", "newsletter": nl})
		return
	}
	list := s.newsletterChoices(c, []string{nl})
	lang := langOfChoices(c, list)
	s.page(c, http.StatusOK, "unsubscribed", pageData{Lang: lang, Title: lang.T("page.unsubscribed.title"), Newsletters: list})
}
