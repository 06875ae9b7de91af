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
	id, nl, err := s.Signer.ParseUnsubscribeToken(token)
	if err != nil {
		return "", err
	}
	if id, err = s.Store.current(ctx, id); err != nil || id == 0 {
		return nl, err // erased: nothing to do
	}
	now := s.Now()
	prev, err := s.Store.transition(ctx, id, nl, transUnsubscribe, now)
	if err != nil {
		return "", fmt.Errorf("subscribers: unsubscribe: %w", err)
	}
	if prev == newsletter.StatusPending || prev == newsletter.StatusConfirmed {
		consent := Consent{Action: ActionUnsubscribe, Newsletters: []string{nl}, At: now, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source, Wording: s.ConsentWording}
		if err := s.Store.AddConsent(ctx, id, consent); err != nil {
			return "", fmt.Errorf("subscribers: unsubscribe: %w", err)
		}
	}
	return nl, s.Store.durable(ctx, newsletter.PartitionOf(id))
}
