package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/digests"
)

// historyPageSize is how many digests a page of the history shows.
const historyPageSize = 25

// historyPage is what the history of a newsletter's digests shows.
type historyPage struct {
	Newsletter *newsletter.Newsletter
	Rows       []historyRow
	Total      int64
	Page       int // from 1
	Prev, Next int // neighbouring pages; 0 for none
}

// historyRow is one digest of the history.
type historyRow struct {
	*digests.Digest
	Bounces int64 // hard and soft
}

// handleAdminHistory shows a newsletter's digests, newest first, a page
// at a time (?page=, from 1): each with its subject, when, status,
// recipients, outcomes, what came back and its clicks.
func (s *Server) handleAdminHistory(c *gin.Context) {
	id := pathParam(c, "id")
	n, err := s.loadNewsletter(c, id)
	page := 1
	if err == nil {
		page, err = queryInt(c, "page", 1, 1, maxHistoryOffset/historyPageSize, "page must be a whole number, 1 or more.")
	}
	var list []*digests.Digest
	var total int64
	if err == nil {
		list, total, err = s.cfg.Digests.Store.History(c, id, (page-1)*historyPageSize, historyPageSize)
	}
	if err == nil {
		err = s.withEngagement(c, list...)
	}
	if err != nil {
		s.adminFail(c, err, adminPath("newsletters", id))
		return
	}
	p := historyPage{Newsletter: n, Total: total, Page: page, Rows: make([]historyRow, len(list))}
	for i, d := range list {
		p.Rows[i] = historyRow{Digest: inZone(d, location(n)), Bounces: d.Reports.BouncedHard + d.Reports.BouncedSoft}
	}
	if page > 1 {
		p.Prev = page - 1
	}
	if int64(page*historyPageSize) < total {
		p.Next = page + 1
	}
	s.adminPage(c, http.StatusOK, "history", adminView{Title: "Digests of " + n.Name, Data: p})
}
