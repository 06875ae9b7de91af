package subscribers

import (
	"context"
	"fmt"
	"strings"
	"time"

	"newsletter"
)

// Suppression is an address that no email goes to any more.
type Suppression struct {
	Email  string    `json:"email"`
	Reason string    `json:"reason"` // human text, e.g. "550 5.1.1 user unknown"
	Source string    `json:"source"` // one of the Source constants
	At     time.Time `json:"at"`
}

// Sources of a suppression: what said that the address must not be mailed.
const (
	SourceSMTP      = "smtp"      // an SMTP server refused the address for good (5.1.1 ...)
	SourceBounce    = "bounce"    // a hard bounce reported to the bounce webhook
	SourceComplaint = "complaint" // the reader reported a message as spam
	SourceNotMe     = "not_me"    // the reader said "this wasn't me"
	SourceEditor    = "editor"    // an editor suppressed the address by hand
)

// Types of bounce that a bounce report may carry.
const (
	BounceHard      = "hard"      // the mailbox does not exist or refuses mail for good
	BounceSoft      = "soft"      // a passing failure: full mailbox, server down
	BounceComplaint = "complaint" // the reader reported the message as spam
)

var errInvalidBounce = newsletter.FieldError(newsletter.EINVALID, "type",
	`A bounce type is "hard", "soft" or "complaint".`)

var errNotSuppressed = newsletter.Errorf(newsletter.ENOTFOUND, "This address is not suppressed.")

// BounceSuppresses reports whether a bounce of type typ suppresses the
// address: a hard bounce or a complaint does, a soft bounce does not.
func BounceSuppresses(typ string) bool {
	_, ok := bounceSource(typ)
	return ok
}

// bounceSource returns the source of the suppression that a bounce of type
// typ sets off, if it sets one off.
func bounceSource(typ string) (string, bool) {
	switch typ {
	case BounceHard:
		return SourceBounce, true
	case BounceComplaint:
		return SourceComplaint, true
	}
	return "", false
}

// Bounce records a bounce report about email from the generic bounce
// webhook, as Report does: a hard bounce or a complaint suppresses the
// address, soft bounces are counted (SoftBounceLimit in SoftBounceWindow
// suppress). An address that is not valid is an invalid_email error; a
// type other than hard, soft or complaint is an invalid error on "type".
func (s *Service) Bounce(ctx context.Context, email, typ, reason string) error {
	_, err := s.Report(ctx, Report{Email: email, Type: typ, Reason: reason, Channel: "webhook"})
	return err
}

// Unsuppress takes email off the suppression list, so that it may be mailed
// again; not_found when it is not on the list.
func (s *Service) Unsuppress(ctx context.Context, email string) error {
	found, err := s.Store.Unsuppress(ctx, suppressionAddress(email))
	if err != nil {
		return fmt.Errorf("subscribers: unsuppress: %w", err)
	} else if !found {
		return errNotSuppressed
	}
	return nil
}

// Suppressions returns up to limit suppressions from offset, newest first,
// and how many there are in all.
func (s *Service) Suppressions(ctx context.Context, offset, limit int) ([]Suppression, int64, error) {
	list, total, err := s.Store.Suppressions(ctx, offset, limit)
	if err != nil {
		return nil, 0, fmt.Errorf("subscribers: suppressions: %w", err)
	}
	return list, total, nil
}

// eraseSuppression removes email from the suppression list when no
// subscriber has the address: a suppression holds the address too.
// It answers not_found when the address was not on the list either.
func (s *Service) eraseSuppression(ctx context.Context, email string) error {
	found, err := s.Store.Unsuppress(ctx, suppressionAddress(email))
	if err != nil {
		return fmt.Errorf("subscribers: erase: %w", err)
	} else if !found {
		return errNotFound
	}
	return nil
}

// suppressionAddress returns the address under which email is suppressed:
// its normalized form, or the address as given (trimmed) when it does not
// normalize, so that an editor can lift any entry the list holds.
func suppressionAddress(email string) string {
	if addr, err := NormalizeAddress(email); err == nil {
		return addr
	}
	return strings.TrimSpace(email)
}

// domainOf returns the domain of a normalized address.
func domainOf(addr string) string {
	return addr[strings.LastIndexByte(addr, '@')+1:]
}
