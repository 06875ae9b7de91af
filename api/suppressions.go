package api

import (
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/subscribers"
)

// Paging of the suppression list.
const (
	defaultSuppressionsLimit = 100
	maxSuppressionsLimit     = 1000
	maxSuppressionsOffset    = math.MaxInt32
)

// bounceJSON is the body of POST /v1/webhooks/bounces.
type bounceJSON struct {
	Email  string `json:"email"`
	Type   string `json:"type"` // hard, soft or complaint
	Reason string `json:"reason"`
}

// handleListSuppressions answers one page of the suppression list, newest
// first: ?offset= (default 0) and ?limit= (default 100, at most 1000).
func (s *Server) handleListSuppressions(c *gin.Context) {
	offset, err := queryInt(c, "offset", 0, 0, maxSuppressionsOffset, "offset must be a whole number, 0 or more.")
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, err := queryInt(c, "limit", defaultSuppressionsLimit, 1, maxSuppressionsLimit,
		"limit must be a whole number from 1 to "+strconv.Itoa(maxSuppressionsLimit)+".")
	if err != nil {
		s.fail(c, err)
		return
	}
	list, total, err := s.cfg.Subscribers.Suppressions(c, offset, limit)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"suppressions": list, "total": total, "offset": offset, "limit": limit})
}

// handleDeleteSuppression lifts the suppression of an address, for an
// editor who knows better: 204, or 404 when it is not suppressed.
func (s *Server) handleDeleteSuppression(c *gin.Context) {
	if err := s.cfg.Subscribers.Unsuppress(c, pathParam(c, "email")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// handleBounceWebhook takes a bounce report: a hard bounce or a complaint
// suppresses the address, a soft bounce is recorded in the log only.
func (s *Server) handleBounceWebhook(c *gin.Context) {
	var body bounceJSON
	if err := decodeJSON(c, maxEditorBody, &body); err != nil {
		s.fail(c, err)
		return
	}
	if err := s.cfg.Subscribers.Bounce(c, body.Email, body.Type, body.Reason); err != nil {
		s.fail(c, err)
		return
	}
	status := "recorded"
	if subscribers.BounceSuppresses(body.Type) {
		status = "suppressed"
	}
	c.JSON(http.StatusOK, gin.H{"status": status})
}

// queryInt reads query parameter name as a whole number from lo to hi, or
// def when the request does not carry it. Any other value is a bad request
// that says msg about the parameter.
func queryInt(c *gin.Context, name string, def, lo, hi int, msg string) (int, error) {
	raw, ok := c.GetQuery(name)
	if !ok {
		return def, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil || v < lo || v > hi {
		return 0, newsletter.FieldError(newsletter.EBADREQUEST, name, msg)
	}
	return v, nil
}
