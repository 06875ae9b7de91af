package api

import (
	"errors"
	"net/http"

	"github.com/gin-gonic/gin"

	"newsletter"
)

// statusOf maps every error code to its HTTP status, in one place.
var statusOf = map[string]int{
	newsletter.EINVALID:           http.StatusUnprocessableEntity,
	newsletter.EINVALIDEMAIL:      http.StatusUnprocessableEntity,
	newsletter.EUNKNOWNNEWSLETTER: http.StatusUnprocessableEntity,
	newsletter.EINVALIDID:         http.StatusUnprocessableEntity,
	newsletter.EINVALIDNEWSLETTER: http.StatusUnprocessableEntity,
	newsletter.EINVALIDARTICLE:    http.StatusUnprocessableEntity,
	newsletter.EINVALIDDIGEST:     http.StatusUnprocessableEntity,
	newsletter.ENOARTICLES:        http.StatusUnprocessableEntity,
	newsletter.EINVALIDTOKEN:      http.StatusBadRequest,
	newsletter.EBADCSV:            http.StatusBadRequest,
	newsletter.EEXPIREDTOKEN:      http.StatusGone,
	newsletter.ENOTFOUND:          http.StatusNotFound,
	newsletter.ECONFLICT:          http.StatusConflict,
	newsletter.ERATELIMITED:       http.StatusTooManyRequests,
	newsletter.EINTERNAL:          http.StatusInternalServerError,
	newsletter.EUNAVAILABLE:       http.StatusServiceUnavailable,
	newsletter.EBADREQUEST:        http.StatusBadRequest,
	newsletter.EBODYTOOLARGE:      http.StatusRequestEntityTooLarge,
	newsletter.EUNSUPPORTEDMEDIA:  http.StatusUnsupportedMediaType,
	newsletter.EUNAUTHORIZED:      http.StatusUnauthorized,
	newsletter.EFORBIDDEN:         http.StatusForbidden,
	newsletter.EMETHODNOTALLOWED:  http.StatusMethodNotAllowed,
	newsletter.ETIMEOUT:           http.StatusServiceUnavailable,
	newsletter.ESTALLED:           http.StatusRequestTimeout,
}

var errInternal = &newsletter.Error{Code: newsletter.EINTERNAL, Message: "Internal error."}

// errorBody is the JSON answer to a failed request:
// {"error": {"code", "message"[, "field"][, "suggestion"]}}.
type errorBody struct {
	Error *newsletter.Error `json:"error"`
}

// coded returns err as a client-safe *newsletter.Error: its own when it has
// one, else "Internal error." after logging the cause once.
func (s *Server) coded(c *gin.Context, err error) *newsletter.Error {
	var e *newsletter.Error
	if errors.As(err, &e) && e.Code != newsletter.EINTERNAL {
		return e
	}
	if storeUnreachable(err) {
		s.logger(c).Warn("Redis unreachable; answered 503", "error", err)
		return errStoreUnreachable
	}
	s.logger(c).Error("Unable to serve request", "error", err)
	return errInternal
}

// fail answers with err, as JSON or, for readers' forms, as an HTML page.
func (s *Server) fail(c *gin.Context, err error) {
	e := s.coded(c, err)
	status := statusFor(e.Code)
	if e.Code == newsletter.EUNAVAILABLE && c.Writer.Header().Get("Retry-After") == "" {
		c.Header("Retry-After", "1")
	}
	if wantsHTML(c) {
		s.errorPage(c, status, e)
		return
	}
	c.AbortWithStatusJSON(status, errorBody{Error: e})
}

// statusIf returns status when cond holds, else 200: for answers that
// differ only in whether something new was made.
func statusIf(cond bool, status int) int {
	if cond {
		return status
	}
	return http.StatusOK
}

// statusFor returns the HTTP status of an error code.
func statusFor(code string) int {
	if status, ok := statusOf[code]; ok {
		return status
	}
	return http.StatusInternalServerError
}

func (s *Server) handleNotFound(c *gin.Context) {
	s.fail(c, newsletter.Errorf(newsletter.ENOTFOUND, "There is nothing at this address."))
}

func (s *Server) handleMethodNotAllowed(c *gin.Context) {
	s.fail(c, newsletter.Errorf(newsletter.EMETHODNOTALLOWED, "This method is not allowed here."))
}
