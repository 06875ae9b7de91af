package subscribers

import (
	"context"
	"errors"
	"fmt"
	"newsletter"
	"time"
)

// DefaultUnconfirmedTTL is how long an unconfirmed subscription is kept
// unless configured.
const DefaultUnconfirmedTTL = 30 * 24 * time.Hour

// purgePageSize is how many subscribers PurgeUnconfirmed reads at a time.
const purgePageSize = 500

// PurgeUnconfirmed removes every subscription still pending that was made
// more than olderThan ago, and erases each subscriber left with no
// subscription at all, who therefore never confirmed anything. It returns
// how many subscriptions it removed.
//
// A subscription whose confirmation link still works is kept until the link
// expires: a signup repeated late sends a new link but keeps the first
// signup's date. Each newsletter's pending audience is read in pages of
// 500, never all at once. Running it again, or in two processes at once,
// removes nothing twice.
func (s *Service) PurgeUnconfirmed(ctx context.Context, olderThan time.Duration) (int, error) {
	if olderThan <= 0 {
		return 0, errors.New("subscribers: purge: the age of unconfirmed subscriptions must be positive")
	}
	now := s.Now()
	all, err := s.Store.Newsletters(ctx)
	if err != nil {
		return 0, fmt.Errorf("subscribers: purge: %w", err)
	}
	total := 0
	for _, n := range all {
		removed, err := s.purgeNewsletter(ctx, n.ID, now.Add(-olderThan), now)
		total += removed
		if err != nil {
			return total, fmt.Errorf("subscribers: purge %s: %w", n.ID, err)
		}
	}
	return total, nil
}

// purgeNewsletter removes newsletter nl's pending subscriptions made before
// before, partition by partition and page by page.
func (s *Service) purgeNewsletter(ctx context.Context, nl string, before, now time.Time) (int, error) {
	removed := 0
	for _, p := range newsletter.AllPartitions() {
		n, err := s.purgePartition(ctx, nl, p, before, now)
		if removed += n; err != nil {
			return removed, err
		}
	}
	return removed, nil
}

// purgePartition removes newsletter nl's pending subscriptions in partition
// p made before before, page by page.
func (s *Service) purgePartition(ctx context.Context, nl string, p newsletter.Partition, before, now time.Time) (int, error) {
	removed := 0
	for after := int64(-1); ; {
		ids, subs, err := s.Store.pendingPage(ctx, nl, p, after, purgePageSize)
		if err != nil || len(ids) == 0 {
			return removed, err
		}
		after = newsletter.BitOf(ids[len(ids)-1])
		n, err := s.purgePage(ctx, nl, ids, subs, before, now)
		removed += n
		if err != nil {
			return removed, err
		}
	}
}

// purgePage removes the subscriptions to nl of ids (subs holds each one's
// subscription) made before before, but those whose last confirmation link
// still works at now.
func (s *Service) purgePage(ctx context.Context, nl string, ids []int64, subs []Subscription, before, now time.Time) (int, error) {
	removed := 0
	for i, id := range ids {
		sub := subs[i]
		if sub.Status != newsletter.StatusPending || !sub.SubscribedAt.Before(before) {
			continue
		}
		if !sub.linkSentAt.IsZero() && now.Before(sub.linkSentAt.Add(s.ConfirmTTL)) {
			continue // its link still works
		}
		ok, err := s.Store.removePending(ctx, id, nl, before)
		if err != nil {
			return removed, err
		} else if !ok {
			continue // confirmed meanwhile
		}
		removed++
		if _, err := s.Store.eraseIfBare(ctx, id); err != nil {
			return removed, err
		}
	}
	return removed, nil
}
