// Package newsletter holds what every part of the service shares: the coded
// error that domain packages return and the api package turns into a status.
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
)

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
