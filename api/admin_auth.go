package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
)

// ctxSession is the context key of the request's session cookie value.
const ctxSession = "admin_session"

// Messages of the sign-in page and of refused editor forms.
const (
	msgWrongToken    = "This token is not valid."
	msgLoginExpired  = "The sign-in form has expired. Please try again."
	msgSessionEnded  = "Your session has ended. Please sign in again."
	msgBadCSRF       = "This form has expired. Please go back, reload the page and try again."
	msgLoginLimited  = "Too many failed attempts from your address. Please try again later."
	maxAdminFormBody = maxEditorBody
)

// setCookie sets an HttpOnly, SameSite=Strict cookie under path, Secure
// when the service is served over HTTPS; maxAge < 0 deletes it.
func (s *Server) setCookie(c *gin.Context, name, value, path string, maxAge time.Duration) {
	ck := &http.Cookie{Name: name, Value: value, Path: path, MaxAge: int(maxAge / time.Second),
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: strings.HasPrefix(s.cfg.BaseURL, "https://")}
	if maxAge < 0 {
		ck.MaxAge = -1
	}
	http.SetCookie(c.Writer, ck)
}

// currentSession returns the request's session cookie when it is valid.
func (s *Server) currentSession(c *gin.Context) (string, bool) {
	v, err := c.Cookie(sessionCookie)
	if err != nil || !s.sessions.valid(v, time.Now()) {
		return "", false
	}
	return v, true
}

// requireSession lets through requests of a signed-in editor. Others are
// sent to the sign-in page, or refused when they post a form.
func (s *Server) requireSession(c *gin.Context) {
	if v, ok := s.currentSession(c); ok {
		c.Set(ctxSession, v)
		return
	}
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		c.Redirect(http.StatusSeeOther, "/admin/login")
		c.Abort()
		return
	}
	s.adminMessage(c, http.StatusUnauthorized, "Please sign in", msgSessionEnded, "/admin/login")
}

// requireCSRF refuses a form posted without the CSRF token of the session.
// It caps the body first, as every editor form is small.
func (s *Server) requireCSRF(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		return
	}
	// The forms of a signed-in editor may carry a digest template.
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxNewsletterBody)
	if !sameToken(c.PostForm("csrf"), s.sessions.csrf(c.GetString(ctxSession))) {
		s.adminMessage(c, http.StatusForbidden, "Form expired", msgBadCSRF, "/admin")
	}
}

// handleAdminLoginPage shows the sign-in form, or the editor pages to an
// editor who is signed in.
func (s *Server) handleAdminLoginPage(c *gin.Context) {
	if _, ok := s.currentSession(c); ok {
		c.Redirect(http.StatusSeeOther, "/admin")
		return
	}
	s.loginPage(c, http.StatusOK, "")
}

// loginPage renders the sign-in form with an error message, keeping the
// form's CSRF secret when the browser holds one.
func (s *Server) loginPage(c *gin.Context, status int, msg string) {
	secret, err := c.Cookie(loginCookie)
	if err != nil || len(secret) < 16 {
		secret = randomValue()
	}
	s.setCookie(c, loginCookie, secret, "/admin/login", loginLifetime)
	c.Header("Cache-Control", "no-store")
	c.HTML(status, "login", adminView{Title: "Editor sign-in", CSRF: s.sessions.loginCSRF(secret), Error: msg})
	c.Abort()
}

// handleAdminLogin signs an editor in with an editor token. A wrong token
// counts as an authentication failure of the client, like a wrong bearer
// token; past the limit the answer is 429 whatever the token.
func (s *Server) handleAdminLogin(c *gin.Context) {
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, maxAdminFormBody)
	secret, err := c.Cookie(loginCookie)
	if err != nil || !sameToken(c.PostForm("csrf"), s.sessions.loginCSRF(secret)) {
		s.loginPage(c, http.StatusForbidden, msgLoginExpired)
		return
	}
	if s.refuseLimited(c, s.loginLimited) {
		return
	}
	token := c.PostForm("token")
	if !s.validToken(token) {
		s.loginFailed(c)
		return
	}
	s.setCookie(c, loginCookie, "", "/admin/login", -1)
	s.setCookie(c, sessionCookie, s.sessions.issue(token, time.Now()), "/admin", sessionLifetime)
	s.logger(c).Info("Editor signed in", "client_ip", c.ClientIP())
	c.Redirect(http.StatusSeeOther, "/admin")
}

// loginFailed answers a sign-in with a wrong token: 401, or 429 with
// Retry-After once the client has failed too often.
func (s *Server) loginFailed(c *gin.Context) {
	if s.cfg.AuthFailureLimit != nil {
		wait, err := s.take(c, s.cfg.AuthFailureLimit)
		if err != nil {
			s.adminFail(c, err, "/admin/login")
			return
		}
		if wait > 0 {
			s.loginLimited(c, wait)
			return
		}
	}
	s.loginPage(c, http.StatusUnauthorized, msgWrongToken)
}

// loginLimited answers a sign-in from a client past its failure limit.
func (s *Server) loginLimited(c *gin.Context, wait time.Duration) {
	c.Header("Retry-After", retryAfter(wait))
	s.loginPage(c, http.StatusTooManyRequests, msgLoginLimited)
}

// handleAdminLogout ends the session in this browser.
func (s *Server) handleAdminLogout(c *gin.Context) {
	s.setCookie(c, sessionCookie, "", "/admin", -1)
	c.Redirect(http.StatusSeeOther, "/admin/login")
}
