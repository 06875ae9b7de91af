package api

import (
	"context"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
)

func (s *Server) handleHealthz(c *gin.Context) {
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleReadyz answers 200 while Redis answers within a second.
func (s *Server) handleReadyz(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c, time.Second)
	defer cancel()
	if err := s.cfg.Subscribers.Ping(ctx); err != nil {
		s.logger(c).Warn("Redis does not answer", "error", err)
		c.JSON(http.StatusServiceUnavailable, gin.H{"status": "unavailable"})
		return
	}
	c.JSON(http.StatusOK, gin.H{"status": "ok"})
}

// handleMetrics serves the Prometheus metrics, when the server has them.
func (s *Server) handleMetrics(c *gin.Context) {
	if s.cfg.Metrics == nil {
		s.handleNotFound(c)
		return
	}
	s.cfg.Metrics.Handler().ServeHTTP(c.Writer, c.Request)
}
