package subscribers

import (
	"context"
	"errors"
	"fmt"
	"newsletter"
	"time"

	"github.com/redis/go-redis/v9"
)

// Confirm confirms as ConfirmToken does and returns the newsletters the
// address is confirmed for now: not one the reader unsubscribed from since
// the token was used.
func (s *Service) Confirm(ctx context.Context, token string, meta RequestMeta) ([]string, error) {
	c, err := s.ConfirmToken(ctx, token, meta)
	if err != nil {
		return nil, err
	}
	return c.Newsletters(newsletter.StatusConfirmed), nil
}

// ConfirmToken confirms the pending subscriptions a confirmation token was
// made for and returns where the address stands afterwards with each
// newsletter of the token. The token confirms a subscription only while it
// is pending since the token's signup or before: used again it changes
// nothing, so a subscription the reader ended since stays unsubscribed,
// a later signup waits for its own link, and the answer says so. Each
// newly confirmed subscription gets one welcome email.
func (s *Service) ConfirmToken(ctx context.Context, token string, meta RequestMeta) (*Confirmation, error) {
	claim, err := s.liveToken(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirm: %w", err)
	}
	changed, err := s.confirm(ctx, claim, meta)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirm: %w", err)
	}
	if changed {
		if err := s.Store.durable(ctx, newsletter.PartitionOf(claim.SubscriberID)); err != nil {
			return nil, err
		}
	}
	c, err := s.standing(ctx, claim)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirm: %w", err)
	}
	return c, nil
}

// liveToken returns what a confirmation token says: errInvalidToken when it
// is not a token this service made, its subscriber is gone, or "This wasn't
// me" voided it; errExpiredToken when its lifetime is over.
func (s *Service) liveToken(ctx context.Context, token string) (tokenClaim, error) {
	if s.Sealer == nil {
		return tokenClaim{}, errors.New("the Service has no Sealer for confirmation tokens")
	}
	claim, err := s.Sealer.parseConfirmToken(token)
	if err != nil {
		return tokenClaim{}, err
	}
	vals, err := s.Store.rdb.HMGet(ctx, keySubscriber(claim.SubscriberID), fieldEmail, fieldTokensVoid).Result()
	if err != nil {
		return tokenClaim{}, err
	}
	if str(vals[0]) == "" || claim.seq <= atoi(str(vals[1])) {
		return tokenClaim{}, errInvalidToken
	}
	if s.Now().After(claim.Issued.Add(s.ConfirmTTL)) {
		return tokenClaim{}, errExpiredToken
	}
	return claim, nil
}

// confirm confirms each subscription the token may confirm, records the
// consent, and welcomes the subscriber to each newsletter it is now
// confirmed for. Every step may run again without doing anything twice. It
// reports whether a subscription changed.
func (s *Service) confirm(ctx context.Context, claim tokenClaim, meta RequestMeta) (bool, error) {
	now, id := s.Now(), claim.SubscriberID
	var changed, confirmed []string
	for _, nl := range claim.Newsletters {
		prev, err := s.Store.transitionBy(ctx, id, nl, transConfirm, now, claim.seq)
		if err != nil {
			return false, err
		}
		if prev == newsletter.StatusPending {
			changed = append(changed, nl)
		}
		if prev == newsletter.StatusPending || prev == newsletter.StatusConfirmed {
			confirmed = append(confirmed, nl)
		}
	}
	if len(changed) > 0 {
		if err := s.recordConfirmation(ctx, id, changed, meta, now); err != nil {
			return true, err
		}
	}
	return len(changed) > 0, s.welcome(ctx, id, confirmed)
}

func (s *Service) recordConfirmation(ctx context.Context, id int64, nls []string, meta RequestMeta, now time.Time) error {
	if err := s.Store.applyPendingName(ctx, id); err != nil {
		return err
	}
	consent := Consent{Action: ActionConfirm, Newsletters: nls, At: now, IP: meta.IP, UserAgent: meta.UserAgent,
		Source: meta.Source, Wording: s.ConsentWording}
	return s.Store.AddConsent(ctx, id, consent)
}

// applyPendingNameScript makes the name given at the last signup (pn) the
// subscriber's name. KEYS: subscriber hash.
var applyPendingNameScript = redis.NewScript(`
local name = redis.call('HGET', KEYS[1], '` + fieldPendingName + `')
if name then
  redis.call('HSET', KEYS[1], '` + fieldName + `', name)
  redis.call('HDEL', KEYS[1], '` + fieldPendingName + `')
end
return 0
`)

// applyPendingName makes the name given at subscriber id's last signup its
// name, now that the reader confirmed.
func (s *Store) applyPendingName(ctx context.Context, id int64) error {
	return applyPendingNameScript.Run(ctx, s.rdb, []string{keySubscriber(id)}).Err()
}

// welcome asks for one welcome email per newsletter, and never a second one
// for the same subscriber and newsletter. A welcome that could not be
// queued is unmarked, so a later confirmation tries again.
func (s *Service) welcome(ctx context.Context, id int64, nls []string) error {
	if len(nls) == 0 {
		return nil
	}
	email, err := s.Store.rdb.HGet(ctx, keySubscriber(id), fieldEmail).Result()
	if errors.Is(err, redis.Nil) {
		return nil
	} else if err != nil {
		return err
	}
	for _, nl := range nls {
		first, err := s.Store.MarkWelcomed(ctx, id, nl)
		if err != nil {
			return err
		} else if !first {
			continue
		}
		if err := s.Notifier.SendWelcome(ctx, WelcomeEmail{SubscriberID: id, Email: email, Newsletter: nl}); err != nil {
			return errors.Join(err, s.Store.unmarkWelcomed(ctx, id, nl))
		}
	}
	return nil
}
