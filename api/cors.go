package api

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/gin-gonic/gin"

	"newsletter"
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

// refuseCrossSite refuses, with 403, a browser's request sent by a page of
// another site: one whose Origin is neither an allowed origin nor the
// service's own, or, without Origin, whose Sec-Fetch-Site says cross-site.
// Any website could otherwise make its visitors' browsers sign people up.
// Requests without those headers (servers, curl) pass.
func (s *Server) refuseCrossSite(c *gin.Context) {
	origin := c.GetHeader("Origin")
	switch {
	case origin != "":
		if s.origins.allows(origin) || s.ownOrigin(origin) || sameHost(origin, c.Request.Host) {
			return
		}
	case c.GetHeader("Sec-Fetch-Site") != "cross-site":
		return
	}
	s.fail(c, errCrossSite)
	c.Abort()
}

var errCrossSite = newsletter.Errorf(newsletter.EFORBIDDEN,
	"This form may only be sent from the site's own pages.")

// ownOrigin reports whether origin is the service's own (NEWSLETTER_BASE_URL's).
func (s *Server) ownOrigin(origin string) bool {
	own, ok1 := normalizeOrigin(strings.TrimSuffix(originOf(s.cfg.BaseURL), "/"))
	given, ok2 := normalizeOrigin(origin)
	return ok1 && ok2 && own == given
}

// sameHost reports whether origin names the host the request was sent to:
// a page of this service, whatever NEWSLETTER_BASE_URL says (a proxy that
// ends TLS may change the scheme, not the host).
func sameHost(origin, host string) bool {
	u, err := url.Parse(origin)
	return err == nil && u.Host != "" && host != "" && strings.EqualFold(u.Host, host)
}

// originOf is scheme://host of a URL, "" when it has none.
func originOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return u.Scheme + "://" + u.Host
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
