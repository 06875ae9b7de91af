package subscribers

import (
	"context"
	"fmt"
)

// Confirm confirms the subscriptions a confirmation token was made for and
// returns their newsletters. A token used again within its lifetime answers
// the same; each newly confirmed subscription gets one welcome email.
func (s *Service) Confirm(ctx context.Context, token string, meta RequestMeta) ([]string, error) {
	id, hash, err := parseConfirmToken(token)
	if err != nil {
		return nil, err
	}
	rec, err := s.Store.loadToken(ctx, hash)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirm: %w", err)
	}
	if rec == nil || rec.SubscriberID != id {
		return nil, errInvalidToken
	}
	now := s.Now()
	if now.After(rec.ExpiresAt) {
		return nil, errExpiredToken
	}
	first, err := s.Store.markTokenUsed(ctx, hash, now)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirm: %w", err)
	}
	if first {
		if err := s.confirm(ctx, rec, meta); err != nil {
			return nil, fmt.Errorf("subscribers: confirm: %w", err)
		}
	}
	return rec.Newsletters, nil
}

func (s *Service) confirm(ctx context.Context, rec *tokenRecord, meta RequestMeta) error {
	now, id := s.Now(), rec.SubscriberID
	var confirmed []string
	for _, nl := range rec.Newsletters {
		prev, err := s.Store.transition(ctx, id, nl, transConfirm, now)
		if err != nil {
			return err
		}
		if prev == StatusPending {
			confirmed = append(confirmed, nl)
		}
	}
	if rec.Name != "" && len(confirmed) > 0 {
		if err := s.Store.SetName(ctx, id, rec.Name); err != nil {
			return err
		}
	}
	consent := Consent{Action: ActionConfirm, Newsletters: rec.Newsletters, At: now, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source}
	if err := s.Store.AddConsent(ctx, id, consent); err != nil {
		return err
	}
	return s.welcome(ctx, id, confirmed)
}

// welcome asks for one welcome email per newly confirmed newsletter, and
// never a second one for the same subscriber and newsletter.
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
		}
		if first {
			if err := s.Notifier.SendWelcome(ctx, WelcomeEmail{SubscriberID: id, Email: sub.Email, Newsletter: nl}); err != nil {
				return err
			}
		}
	}
	return nil
}
