package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"newsletter/digests"
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
	s.page(c, http.StatusOK, "unsubscribe", pageData{Lang: lang, Title: lang.T("unsubscribe"), Token: token, Newsletters: list,
		DigestRef: digestRef(c)})
}

// handleUnsubscribe unsubscribes: from the page's form, or one click from
// a mail client (RFC 8058, body List-Unsubscribe=One-Click).
func (s *Server) handleUnsubscribe(c *gin.Context) {
	token, meta := tokenRequest(c)
	if c.PostForm("List-Unsubscribe") == "One-Click" {
		meta.Source = "List-Unsubscribe=One-Click"
	}
	nl, changed, err := s.cfg.Subscribers.UnsubscribeChanged(c, token, meta)
	if err != nil {
		s.failPage(c, err)
		return
	}
	s.cfg.Metrics.CountUnsubscribe()
	if ref := digestRef(c); changed && ref != "" && s.cfg.Digests != nil {
		if err := s.cfg.Digests.Store.CountReport(c, ref, digests.ReportUnsubscribe); err != nil {
			s.logger(c).Warn("Unable to count an unsubscribe for its digest", "digest_id", ref, "error", err)
		}
	}
	if wantsJSON(c) {
		c.JSON(http.StatusOK, gin.H{"status": "unsubscribed", "newsletter": nl})
		return
	}
	list := s.newsletterChoices(c, []string{nl})
	lang := langOfChoices(c, list)
	s.page(c, http.StatusOK, "unsubscribed", pageData{Lang: lang, Title: lang.T("page.unsubscribed.title"), Newsletters: list})
}

// digestRef is the digest an unsubscribe link came from (its d
// parameter), "" when it names none: the digest counts the unsubscribe.
// It proves nothing (the token does); a wrong one only moves a count.
func digestRef(c *gin.Context) string {
	if d := c.Query("d"); digests.ValidID(d) {
		return d
	}
	return ""
}
