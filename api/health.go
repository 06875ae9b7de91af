package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

// readyTimeout bounds a readiness check.
const readyTimeout = time.Second

// ReadinessError is what a Config.Ready check returns when the service
// cannot write: Reason, a sentence that names no host, user or secret, is
// answered to whoever asks /readyz; Err, which may, is only logged.
type ReadinessError struct {
	Reason string
	Err    error
}

func (e *ReadinessError) Error() string {
	if e.Err == nil {
		return e.Reason
	}
	return e.Reason + ": " + e.Err.Error()
}

func (e *ReadinessError) Unwrap() error { return e.Err }

// notAnswering is the reason given for a failed check that gives none.
const notAnswering = "Redis does not answer."

func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleReadyz answers 200 when Config.Ready says the service can write
// (without it, when Redis answers a PING), within a second; else 503 with
// the reason.
func (s *Server) handleReadyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c, readyTimeout)
	defer cancel()
	ready := s.cfg.Ready
	if ready == nil {
		ready = s.cfg.Subscribers.Ping
	}
	if err := ready(ctx); err != nil {
		reason := notAnswering
		if rerr := (*ReadinessError)(nil); errors.As(err, &rerr) {
			reason = rerr.Reason
		}
		s.logger(c).Warn("Not ready: "+reason, "error", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable", "reason": reason})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleMetrics serves the Prometheus metrics, when the server has them.
// metricsGate answers 404 when this router serves no metrics. Metrics are
// for editors only: their counters move with each signup, so read by
// anyone they would tell whether an address was new.
func (s *Server) metricsGate(c *gin.Context) {
	if s.cfg.Metrics == nil || s.cfg.MetricsElsewhere {
		s.handleNotFound(c)
		c.Abort()
	}
}

func (s *Server) handleMetrics(c *gin.Context) {
	s.cfg.Metrics.Handler().ServeHTTP(c.Writer, c.Request)
}
