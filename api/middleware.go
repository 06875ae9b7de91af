package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
)

const (
	headerRequestID = "X-Request-Id"
	ctxLogger       = "logger"
)

// newRequestID returns a new request id: 16 hex digits.
func newRequestID() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// logger returns the request's logger, which puts its id on every line;
// it is made the first time a handler asks for it.
func (s *Server) logger(c *gin.Context) *slog.Logger {
	if l, ok := c.Get(ctxLogger); ok {
		return l.(*slog.Logger)
	}
	l := s.log.With("request_id", newsletter.RequestID(c.Request.Context()))
	c.Set(ctxLogger, l)
	return l
}

// logRequests logs one line per request. It names the route pattern
// (/v1/subscribers/:email), never the path: paths carry addresses and
// tokens, which must not outlive an erasure in the logs.
//
// A click or open (/r/, /o/) is logged without the client's address: the
// log would otherwise tie an address to the moment it read a digest.
func (s *Server) logRequests(c *gin.Context) {
	start := time.Now()
	c.Next()
	route := routeOf(c)
	ip := slog.String("client_ip", "-")
	if !readingRoute(route) {
		ip = slog.String("client_ip", c.ClientIP())
	}
	ctx := c.Request.Context()
	s.log.LogAttrs(ctx, slog.LevelInfo, "Request served", slog.String("request_id", newsletter.RequestID(ctx)),
		slog.String("method", methodOf(c.Request)), slog.String("route", route), slog.Int("status", c.Writer.Status()),
		slog.Int64("duration_ms", time.Since(start).Milliseconds()), ip)
}

// readingRoute reports whether route is a digest's click or open link.
func readingRoute(route string) bool {
	return strings.HasPrefix(route, "/r/") || strings.HasPrefix(route, "/o/")
}

// routeOf is the pattern of the route that served c, or "(none)" when no
// route matched.
func routeOf(c *gin.Context) string {
	if r := c.FullPath(); r != "" {
		return r
	}
	return "(none)"
}

func (s *Server) recoverPanics(c *gin.Context) {
	defer func() {
		if r := recover(); r != nil {
			s.logger(c).Error("Handler panicked", "panic", r)
			s.fail(c, errInternal)
		}
	}()
	c.Next()
}

// setSecurityHeaders sets what every response carries: no sniffing, no
// framing, no referrer (pages carry tokens), and a strict content policy.
// ServeHTTP sets them before routing, so the timeout answer has them too.
func setSecurityHeaders(h http.Header) {
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy",
		"default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
}

// timeoutBody is the answer to a request that took longer than the
// request timeout.
var timeoutBody = mustJSON(errorBody{Error: newsletter.Errorf(newsletter.ETIMEOUT, "The server took too long to answer. Please try again.")})
