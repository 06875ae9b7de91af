// Package newsletter is the domain every part of the service shares: a
// Newsletter and its rules, the statuses of a subscription, audiences, the
// coded errors that domain packages return and the api package turns into a
// status, and the small interfaces that the edges implement. It imports
// nothing of this module.
package newsletter

import (
	"errors"
	"fmt"
)

// Error codes that domain packages return. The api package maps each to an
// HTTP status in one place.
const (
	EINVALID     = "invalid"      // generic validation failure
	ENOTFOUND    = "not_found"    // the thing asked for does not exist
	ECONFLICT    = "conflict"     // the request conflicts with current state
	ERATELIMITED = "rate_limited" // too many requests; try later
	EINTERNAL    = "internal"     // a bug or an outage; never shown in detail

	EINVALIDEMAIL      = "invalid_email"
	EUNKNOWNNEWSLETTER = "unknown_newsletter"
	EINVALIDID         = "invalid_id"
	EINVALIDTOKEN      = "invalid_token"
	EEXPIREDTOKEN      = "expired_token"
	EINVALIDNEWSLETTER = "invalid_newsletter"
	EINVALIDARTICLE    = "invalid_article"
	ENOARTICLES        = "no_articles"
	EINVALIDDIGEST     = "invalid_digest"
	EBADCSV            = "invalid_csv" // an import whose CSV cannot be read
	EUNAVAILABLE       = "unavailable" // the write may not survive a failover yet; retrying is safe

	// Codes of the HTTP edge: a request the api package refuses before any
	// domain code sees it.
	EBADREQUEST       = "bad_request"
	EBODYTOOLARGE     = "body_too_large"
	EUNSUPPORTEDMEDIA = "unsupported_media_type"
	EUNAUTHORIZED     = "unauthorized"
	EFORBIDDEN        = "forbidden"
	EMETHODNOTALLOWED = "method_not_allowed"
	ETIMEOUT          = "timeout"
	ESTALLED          = "request_timeout" // the client stopped sending its request body
)

// Codes lists every error code above, for the edges that must map each one
// (the api package's status table is checked against it).
var Codes = []string{
	EINVALID, ENOTFOUND, ECONFLICT, ERATELIMITED, EINTERNAL,
	EINVALIDEMAIL, EUNKNOWNNEWSLETTER, EINVALIDID, EINVALIDTOKEN, EEXPIREDTOKEN,
	EINVALIDNEWSLETTER, EINVALIDARTICLE, ENOARTICLES, EINVALIDDIGEST, EBADCSV, EUNAVAILABLE,
	EBADREQUEST, EBODYTOOLARGE, EUNSUPPORTEDMEDIA, EUNAUTHORIZED, EFORBIDDEN,
	EMETHODNOTALLOWED, ETIMEOUT, ESTALLED,
}

// Error is an error with a machine-readable code and a sentence fit to show
// to the person who made the request.
type Error struct {
	Code       string `json:"code"`                 // snake_case code from the contract
	Message    string `json:"message"`              // human sentence, safe to show to a client
	Field      string `json:"field,omitempty"`      // optional: the request field at fault
	Suggestion string `json:"suggestion,omitempty"` // optional: a corrected value the client may offer
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an *Error about one request field.
func FieldError(code, field, message string) *Error {
	return &Error{Code: code, Message: message, Field: field}
}

// ErrorCode returns the code of the first *Error in err's chain, EINTERNAL
// for any other non-nil error, and "" for nil.
func ErrorCode(err error) string {
	var e *Error
	switch {
	case err == nil:
		return ""
	case errors.As(err, &e):
		return e.Code
	}
	return EINTERNAL
}
