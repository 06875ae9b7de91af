package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"
)

// CORS for the public JSON API (POST /v1/subscriptions): only the allowed
// origins get CORS headers, so only their pages' scripts may read the
// answers. A preflight always answers 204; for an origin that is not
// allowed, or a method other than POST, it carries no CORS headers and the
// browser refuses the request itself. The editor API never gets CORS
// headers: editors call it from programs, not from pages.
const (
	corsMaxAge         = "600"
	corsAllowedHeaders = "Content-Type, Accept"
	corsExposedHeaders = "Retry-After, X-Request-Id"
)

// origins is a set of allowed origins, normalized by normalizeOrigin.
type origins map[string]bool

// newOrigins returns the set of the well-formed origins of list.
func newOrigins(list []string) origins {
	set := origins{}
	for _, o := range list {
		if n, ok := normalizeOrigin(o); ok {
			set[n] = true
		}
	}
	return set
}

// allows reports whether origin, as a browser sent it, is in the set.
func (o origins) allows(origin string) bool {
	n, ok := normalizeOrigin(origin)
	return ok && o[n]
}

// normalizeOrigin returns scheme://host[:port] in lower case, or false when
// origin is not an http or https origin ("null" included).
func normalizeOrigin(origin string) (string, bool) {
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.Opaque != "" {
		return "", false
	}
	return u.Scheme + "://" + strings.ToLower(u.Host), true
}

// allowOrigin lets the page of an allowed origin read the answer, errors
// included.
func (s *Server) allowOrigin(c *gin.Context) {
	h := c.Writer.Header()
	h.Add("Vary", "Origin")
	if origin := c.GetHeader("Origin"); s.origins.allows(origin) {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Expose-Headers", corsExposedHeaders)
	}
}

// handlePreflight answers a CORS preflight for POST from an allowed origin;
// any other OPTIONS request gets 204 with Allow and no CORS headers.
func (s *Server) handlePreflight(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Allow", "OPTIONS, POST")
	h.Set("Vary", "Origin, Access-Control-Request-Method, Access-Control-Request-Headers")
	origin := c.GetHeader("Origin")
	if s.origins.allows(origin) && c.GetHeader("Access-Control-Request-Method") == http.MethodPost {
		h.Set("Access-Control-Allow-Origin", origin)
		h.Set("Access-Control-Allow-Methods", http.MethodPost)
		h.Set("Access-Control-Allow-Headers", corsAllowedHeaders)
		h.Set("Access-Control-Max-Age", corsMaxAge)
	}
	c.Status(http.StatusNoContent)
}
