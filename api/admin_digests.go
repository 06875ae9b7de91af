package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter/digests"
)

// digestPage is what the page of one digest shows.
type digestPage struct {
	Digest  *digests.Digest
	Done    int64 // recipients with an outcome
	Percent int64
	Chart   *clickChart // clicks per article; nil for a digest without articles
	Waiting bool        // scheduled and not started: the page does not reload itself
}

// progressRefresh is how often, in seconds, the page of a digest under way
// reloads itself: polling that needs no script.
const progressRefresh = 1

// handleAdminDigest shows a digest's status and counts, and what readers
// clicked as a bar chart; while it is under way the page reloads itself
// every second and offers to cancel.
func (s *Server) handleAdminDigest(c *gin.Context) {
	d, err := s.cfg.Digests.Get(c, pathParam(c, "id"))
	if err == nil {
		err = s.withEngagement(c, d)
	}
	if err != nil {
		s.adminFail(c, err, "/admin")
		return
	}
	if n, err := s.loadNewsletter(c, d.Newsletter); err == nil {
		inZone(d, location(n)) // times as the editor scheduled them, in the newsletter's zone
	}
	p := digestPage{Digest: d, Done: d.Counts.Done(), Percent: 100, Chart: newClickChart(d.Clicks), Waiting: d.Waiting(time.Now())}
	if d.Counts.Total > 0 {
		p.Percent = min(100, p.Done*100/d.Counts.Total)
	}
	v := adminView{Title: d.Subject, Data: p}
	if !d.Status.Finished() && !p.Waiting {
		v.Refresh = progressRefresh
	}
	s.adminPage(c, http.StatusOK, "digest", v)
}

// handleAdminCancelDigest stops sending what the digest has not sent yet.
func (s *Server) handleAdminCancelDigest(c *gin.Context) {
	id := pathParam(c, "id")
	if _, err := s.cfg.Digests.Cancel(c, id); err != nil {
		s.adminFail(c, err, adminPath("digests", id))
		return
	}
	seeOther(c, adminPath("digests", id), "canceled")
}
