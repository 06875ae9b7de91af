package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
)

var errUnauthorized = newsletter.Errorf(newsletter.EUNAUTHORIZED, "A valid editor token is required.")

// requireEditor lets through requests that carry one of the editor tokens.
// Tokens are compared in constant time, and never logged. A request with a
// missing or wrong token counts as a failure of its client; past the
// failure limit it answers 429 instead of 401, and while the client is
// past it every request answers 429 before its token is looked at, so a
// right guess among many wrong ones tells nothing.
func (s *Server) requireEditor(c *gin.Context) {
	if s.refuseLimited(c, answerLimited) {
		return
	}
	scheme, given, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	if strings.EqualFold(scheme, "Bearer") && s.validToken(strings.TrimSpace(given)) {
		c.Next()
		return
	}
	if s.cfg.AuthFailureLimit != nil {
		wait, err := s.take(c, s.cfg.AuthFailureLimit)
		if err != nil {
			s.fail(c, err)
			return
		}
		if wait > 0 {
			answerLimited(c, wait)
			return
		}
	}
	c.Header("WWW-Authenticate", `Bearer realm="newsletter"`)
	c.AbortWithStatusJSON(statusOf[newsletter.EUNAUTHORIZED], errorBody{Error: errUnauthorized})
}

// refuseLimited answers with refuse, and reports true, when c's client is
// past its authentication failure limit; it looks at no token.
func (s *Server) refuseLimited(c *gin.Context, refuse func(*gin.Context, time.Duration)) bool {
	if s.cfg.AuthFailureLimit == nil {
		return false
	}
	wait, err := s.cfg.AuthFailureLimit.Wait(c, clientKey(c.ClientIP()), time.Now())
	if err != nil {
		s.fail(c, err)
		return true
	}
	if wait > 0 {
		refuse(c, wait)
		return true
	}
	return false
}

// validToken compares digests, so neither the content nor the length of a
// token leaks through timing; it checks every token, whichever matches.
func (s *Server) validToken(given string) bool {
	g := sha256.Sum256([]byte(given))
	match := 0
	for _, t := range s.cfg.APITokens {
		w := sha256.Sum256([]byte(t))
		match |= subtle.ConstantTimeCompare(g[:], w[:])
	}
	return given != "" && match == 1
}
