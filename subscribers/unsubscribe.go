package subscribers

import (
	"context"
	"fmt"
	"newsletter"
)

// Unsubscribe unsubscribes the subscriber and newsletter a token was made
// for and returns the newsletter. It is idempotent: a second call, or one
// for a subscriber since erased, succeeds and changes nothing.
func (s *Service) Unsubscribe(ctx context.Context, token string, meta RequestMeta) (string, error) {
	id, nl, err := s.Signer.ParseUnsubscribeToken(token)
	if err != nil {
		return "", err
	}
	exists, err := s.Store.exists(ctx, id)
	if err != nil || !exists {
		return nl, err
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
