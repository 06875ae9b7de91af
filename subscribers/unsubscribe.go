package subscribers

import (
	"context"
	"fmt"
	"newsletter"
)

// Unsubscribe unsubscribes the subscriber and newsletter a token was made
// for and returns the newsletter. It is idempotent: a second call, or one
// for a subscriber since erased, succeeds and changes nothing; for one
// that moved to another address, it unsubscribes it there.
func (s *Service) Unsubscribe(ctx context.Context, token string, meta RequestMeta) (string, error) {
	nl, _, err := s.UnsubscribeChanged(ctx, token, meta)
	return nl, err
}

// UnsubscribeChanged is Unsubscribe, and also reports whether it ended a
// subscription (false for a repeat, or an erased subscriber), so that a
// digest counts each unsubscribe from its links once.
func (s *Service) UnsubscribeChanged(ctx context.Context, token string, meta RequestMeta) (string, bool, error) {
	id, nl, err := s.Signer.ParseUnsubscribeToken(token)
	if err != nil {
		return "", false, err
	}
	if id, err = s.Store.current(ctx, id); err != nil || id == 0 {
		return nl, false, err // erased: nothing to do
	}
	now := s.Now()
	prev, err := s.Store.transition(ctx, id, nl, transUnsubscribe, now)
	if err != nil {
		return "", false, fmt.Errorf("subscribers: unsubscribe: %w", err)
	}
	changed := prev == newsletter.StatusPending || prev == newsletter.StatusConfirmed
	if changed {
		consent := Consent{Action: ActionUnsubscribe, Newsletters: []string{nl}, At: now, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source, Wording: s.ConsentWording}
		if err := s.Store.AddConsent(ctx, id, consent); err != nil {
			return "", false, fmt.Errorf("subscribers: unsubscribe: %w", err)
		}
	}
	return nl, changed, s.Store.durable(ctx, newsletter.PartitionOf(id))
}
