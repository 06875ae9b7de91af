package digests

import (
	"errors"
	"fmt"
	"strings"

	"newsletter"
)

// Limits on a digest request.
const (
	maxSubject        = 200
	maxIntro          = 5000
	maxTestRecipients = 50
	maxIdempotencyKey = 200
)

// normalize trims and checks the request, normalizing test addresses.
func (r *Request) normalize(normalizeAddress AddressNormalizer) error {
	r.Subject = strings.Join(strings.Fields(r.Subject), " ") // one line: it becomes a header
	r.Intro = strings.TrimSpace(r.Intro)
	switch {
	case len(r.Subject) > maxSubject:
		return invalid("subject", "A subject is at most 200 characters.")
	case len(r.Intro) > maxIntro:
		return invalid("intro", "An intro is at most 5,000 characters.")
	case r.MaxArticles < 0 || r.MaxArticles > newsletter.MaxMaxArticles:
		return invalid("max_articles", "max_articles is from 1 to 100.")
	case len(r.TestRecipients) > maxTestRecipients:
		return invalid("test_recipients", "At most 50 test recipients.")
	case len(r.IdempotencyKey) > maxIdempotencyKey:
		return invalid("Idempotency-Key", "An Idempotency-Key is at most 200 characters.")
	}
	if err := r.checkCuration(); err != nil {
		return err
	}
	for i, addr := range r.TestRecipients {
		norm, err := normalizeAddress(addr)
		if err != nil {
			return newsletter.FieldError(newsletter.EINVALIDEMAIL, fmt.Sprintf("test_recipients[%d]", i), invalidMessage(err))
		}
		r.TestRecipients[i] = norm
	}
	return nil
}

func invalid(field, msg string) error {
	return newsletter.FieldError(newsletter.EINVALIDDIGEST, field, msg)
}

// invalidMessage returns the sentence of a coded error, or a plain one.
func invalidMessage(err error) string {
	var e *newsletter.Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "Please, enter correct email address"
}
