package api

import (
	"strings"

	"github.com/gin-gonic/gin"
)

// handleAdminDigestTemplate sets the newsletter's own digest template from
// the form's digest_template, or removes it when the form says
// action=clear or the template is empty. A template that does not parse, does not render or lacks
// the unsubscribe link is refused (digests.CheckTemplate) and the stored
// one kept.
func (s *Server) handleAdminDigestTemplate(c *gin.Context) {
	id := pathParam(c, "id")
	back := adminPath("newsletters", id)
	n, err := s.loadNewsletter(c, id)
	notice := "template"
	if err == nil {
		n.DigestTemplate = c.PostForm("digest_template")
		if c.PostForm("action") == "clear" || strings.TrimSpace(n.DigestTemplate) == "" {
			n.DigestTemplate, notice = "", "cleared"
		}
		err = s.saveNewsletter(c, n)
	}
	if err != nil {
		s.adminFail(c, err, back)
		return
	}
	seeOther(c, back, notice)
}
