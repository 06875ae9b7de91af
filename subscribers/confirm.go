package subscribers

import (
	"context"
	"errors"
	"fmt"
	"newsletter"
	"time"
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
// newsletter of the token. The token confirms once: used again within its
// lifetime it changes nothing, so a subscription the reader ended since
// stays unsubscribed, and the answer says so. Each newly confirmed
// subscription gets one welcome email.
func (s *Service) ConfirmToken(ctx context.Context, token string, meta RequestMeta) (*Confirmation, error) {
	rec, hash, err := s.liveToken(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirm: %w", err)
	}
	if rec.UsedAt.IsZero() {
		// Do the work, then mark the token used: a confirmation that failed
		// half-way is completed by the reader's next click.
		if err := s.confirm(ctx, rec, meta); err != nil {
			return nil, fmt.Errorf("subscribers: confirm: %w", err)
		}
		now := s.Now()
		if _, err := s.Store.markTokenUsed(ctx, newsletter.PartitionOf(rec.SubscriberID), hash, now); err != nil {
			return nil, fmt.Errorf("subscribers: confirm: %w", err)
		}
		rec.UsedAt = now
		if err := s.Store.durable(ctx, newsletter.PartitionOf(rec.SubscriberID)); err != nil {
			return nil, err
		}
	}
	c, err := s.standing(ctx, rec)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirm: %w", err)
	}
	return c, nil
}

// liveToken returns the record of a confirmation token and the hash it is
// stored under: errInvalidToken when it is not a token that was issued and
// still stands, errExpiredToken when its lifetime is over.
func (s *Service) liveToken(ctx context.Context, token string) (*tokenRecord, string, error) {
	id, hash, err := parseConfirmToken(token)
	if err != nil {
		return nil, "", err
	}
	rec, err := s.Store.loadToken(ctx, newsletter.PartitionOf(id), hash)
	if err != nil {
		return nil, "", err
	}
	if rec == nil || rec.SubscriberID != id {
		return nil, "", errInvalidToken
	}
	if s.Now().After(rec.ExpiresAt) {
		return nil, "", errExpiredToken
	}
	return rec, hash, nil
}

// confirm confirms each pending subscription of the token, records the
// consent, and welcomes the subscriber to each newsletter it is now
// confirmed for. Every step may run again without doing anything twice.
func (s *Service) confirm(ctx context.Context, rec *tokenRecord, meta RequestMeta) error {
	now, id := s.Now(), rec.SubscriberID
	var changed, confirmed []string
	for _, nl := range rec.Newsletters {
		prev, err := s.Store.transition(ctx, id, nl, transConfirm, now)
		if err != nil {
			return err
		}
		if prev == newsletter.StatusPending {
			changed = append(changed, nl)
		}
		if prev == newsletter.StatusPending || prev == newsletter.StatusConfirmed {
			confirmed = append(confirmed, nl)
		}
	}
	if len(changed) > 0 {
		if err := s.recordConfirmation(ctx, rec, changed, meta, now); err != nil {
			return err
		}
	}
	return s.welcome(ctx, id, confirmed)
}

func (s *Service) recordConfirmation(ctx context.Context, rec *tokenRecord, nls []string, meta RequestMeta, now time.Time) error {
	if rec.Name != "" {
		if err := s.Store.SetName(ctx, rec.SubscriberID, rec.Name); err != nil {
			return err
		}
	}
	consent := Consent{Action: ActionConfirm, Newsletters: nls, At: now, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source}
	return s.Store.AddConsent(ctx, rec.SubscriberID, consent)
}

// welcome asks for one welcome email per newsletter, and never a second one
// for the same subscriber and newsletter. A welcome that could not be
// queued is unmarked, so a later confirmation tries again.
func (s *Service) welcome(ctx context.Context, id int64, nls []string) error {
	if len(nls) == 0 {
		return nil
	}
	sub, err := s.Store.Subscriber(ctx, id)
	if err != nil || sub == nil {
		return err
	}
	for _, nl := range nls {
		first, err := s.Store.MarkWelcomed(ctx, id, nl)
		if err != nil {
			return err
		} else if !first {
			continue
		}
		if err := s.Notifier.SendWelcome(ctx, WelcomeEmail{SubscriberID: id, Email: sub.Email, Newsletter: nl}); err != nil {
			return errors.Join(err, s.Store.unmarkWelcomed(ctx, id, nl))
		}
	}
	return nil
}
