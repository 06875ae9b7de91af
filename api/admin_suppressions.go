package api

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"

	"newsletter/subscribers"
)

// adminSuppressionsPage is how many suppressions one page lists.
const adminSuppressionsPage = 100

// suppressionsPage is one page of the suppression list.
type suppressionsPage struct {
	List       []subscribers.Suppression
	Total      int64
	From, To   int // 1-based positions of the first and last shown
	Prev, Next int // offsets of the neighbouring pages; -1: none
}

// handleAdminSuppressions lists the suppression list, newest first, a
// page at a time (?offset=).
func (s *Server) handleAdminSuppressions(c *gin.Context) {
	offset, err := queryInt(c, "offset", 0, 0, maxSuppressionsOffset, "offset must be a whole number, 0 or more.")
	if err != nil {
		s.adminFail(c, err, "/admin/suppressions")
		return
	}
	list, total, err := s.cfg.Subscribers.Suppressions(c, offset, adminSuppressionsPage)
	if err != nil {
		s.adminFail(c, err, "/admin")
		return
	}
	p := suppressionsPage{List: list, Total: total, From: offset + 1, To: offset + len(list), Prev: -1, Next: -1}
	if offset > 0 {
		p.Prev = max(0, offset-adminSuppressionsPage)
	}
	if int64(p.To) < total {
		p.Next = p.To
	}
	s.adminPage(c, http.StatusOK, "suppressions", adminView{Title: "Suppression list", Data: p})
}

// handleAdminLiftSuppression takes an address off the suppression list.
func (s *Server) handleAdminLiftSuppression(c *gin.Context) {
	if err := s.cfg.Subscribers.Unsuppress(c, c.PostForm("email")); err != nil {
		s.adminFail(c, err, "/admin/suppressions")
		return
	}
	seeOther(c, "/admin/suppressions", "lifted")
}

// urlQuery escapes s for a query string.
func urlQuery(s string) string { return url.QueryEscape(s) }
