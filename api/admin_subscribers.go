package api

import (
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/subscribers"
)

// subscribersPage is what the subscriber lookup shows.
type subscribersPage struct {
	Email string
	Found *subscribers.DataExport // nil: nothing is held about Email
}

// handleAdminSubscribers looks up everything held about ?email=: the
// subscriber, its subscriptions and consent, and its suppression.
func (s *Server) handleAdminSubscribers(c *gin.Context) {
	p := subscribersPage{Email: strings.TrimSpace(c.Query("email"))}
	if p.Email != "" {
		found, err := s.cfg.Subscribers.ExportAddress(c, p.Email)
		if err != nil && newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
			s.adminFail(c, err, "/admin/subscribers")
			return
		}
		p.Found = found
	}
	s.adminPage(c, http.StatusOK, "subscribers", adminView{Title: "Subscribers", Data: p})
}

// handleAdminExportSubscriber answers a data-access request for ?email=
// as a JSON download, as GET /v1/subscribers/{email}/export does.
func (s *Server) handleAdminExportSubscriber(c *gin.Context) {
	data, err := s.cfg.Subscribers.ExportAddress(c, c.Query("email"))
	if err != nil {
		s.adminFail(c, err, "/admin/subscribers")
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Header("Content-Disposition", `attachment; filename="subscriber.json"`)
	c.IndentedJSON(http.StatusOK, data)
}

// handleAdminEraseSubscriber erases everything held about an address. The
// form must tick the confirmation box.
func (s *Server) handleAdminEraseSubscriber(c *gin.Context) {
	email := c.PostForm("email")
	back := "/admin/subscribers?email=" + urlQuery(email)
	if c.PostForm("confirm") != "yes" {
		s.adminFail(c, newsletter.FieldError(newsletter.EINVALID, "confirm", "Tick the box to confirm the erasure."), back)
		return
	}
	if err := s.cfg.Subscribers.Erase(c, email); err != nil {
		s.adminFail(c, err, back)
		return
	}
	seeOther(c, "/admin/subscribers", "erased")
}
