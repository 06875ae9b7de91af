package subscribers

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// notMeReason is the reason a "This wasn't me" suppression records.
const notMeReason = `The reader said "This wasn't me" from a confirmation email`

var errInvalidNotMe = &newsletter.Error{Code: newsletter.EINVALIDTOKEN,
	Message: "This link is not valid, or it was used already. If you told us before that the sign-up was not yours, there is nothing more to do.", Field: "token"}

var errExpiredNotMe = &newsletter.Error{Code: newsletter.EEXPIREDTOKEN,
	Message: "This link has expired. The sign-up was never confirmed, so no newsletter goes to this address.", Field: "token"}

// NotMe acts on "This wasn't me" from a confirmation email: the owner of
// the address says they did not sign up. It puts the address on the
// suppression list (source not_me), so that nothing is ever sent to it
// again, confirmation emails included; removes every subscription of the
// address that is still pending, as no consent was ever given for them;
// voids every confirmation token of the address, so that none confirms
// anything afterwards; and erases the subscriber when nothing else is left
// of it. The suppression stays.
//
// A token that is unknown, tampered, already voided or expired is an
// invalid_token or expired_token error. A token that already confirmed
// still works: the confirmed subscriptions stay, as consent was given for
// them, but the address gets no more email.
func (s *Service) NotMe(ctx context.Context, token string, meta RequestMeta) error {
	claim, err := s.liveToken(ctx, token)
	switch newsletter.ErrorCode(err) {
	case "":
	case newsletter.EINVALIDTOKEN:
		return errInvalidNotMe
	case newsletter.EEXPIREDTOKEN:
		return errExpiredNotMe
	default:
		return fmt.Errorf("subscribers: not me: %w", err)
	}
	sub, err := s.Store.Subscriber(ctx, claim.SubscriberID)
	if err != nil {
		return fmt.Errorf("subscribers: not me: %w", err)
	} else if sub == nil {
		return errInvalidNotMe
	}
	// Suppress first, void the tokens last: a failure half-way is completed
	// by the reader's next click.
	if err := s.Store.Suppress(ctx, sub.Email, notMeReason, SourceNotMe, s.Now()); err != nil {
		return fmt.Errorf("subscribers: not me: %w", err)
	}
	if err := s.withdraw(ctx, sub, meta); err != nil {
		return fmt.Errorf("subscribers: not me: %w", err)
	}
	s.Logger.Info("Address suppressed: the reader said the sign-up was not theirs", "subscriber_id", sub.ID)
	return s.Store.durable(ctx, newsletter.PartitionOf(sub.ID))
}

// withdraw removes sub's pending subscriptions, then erases sub if it holds
// no subscription any more, or else records the removal in its consent
// history and voids its confirmation tokens.
func (s *Service) withdraw(ctx context.Context, sub *Subscriber, meta RequestMeta) error {
	var removed []string
	for _, sn := range sub.Subscriptions {
		if sn.Status != newsletter.StatusPending {
			continue
		}
		ok, err := s.Store.removePending(ctx, sub.ID, sn.Newsletter, time.Time{})
		if err != nil {
			return err
		} else if ok {
			removed = append(removed, sn.Newsletter)
		}
	}
	if erased, err := s.Store.eraseIfBare(ctx, sub.ID); err != nil || erased {
		return err
	}
	if len(removed) > 0 {
		consent := Consent{Action: ActionUnsubscribe, Newsletters: removed, At: s.Now(),
			IP: meta.IP, UserAgent: meta.UserAgent, Source: SourceNotMe, Wording: s.ConsentWording}
		if err := s.Store.AddConsent(ctx, sub.ID, consent); err != nil {
			return err
		}
	}
	return s.Store.voidTokens(ctx, sub.ID)
}

// voidTokensScript voids every confirmation token subscriber KEYS[1] was
// sent so far: tv takes the number of the last (tn).
var voidTokensScript = redis.NewScript(`
local last = redis.call('HGET', KEYS[1], '` + fieldTokenSeq + `')
if last then redis.call('HSET', KEYS[1], '` + fieldTokensVoid + `', last) end
return 0
`)

// voidTokens makes every confirmation token sent to subscriber id so far
// invalid.
func (s *Store) voidTokens(ctx context.Context, id int64) error {
	return voidTokensScript.Run(ctx, s.rdb, []string{keySubscriber(id)}).Err()
}
