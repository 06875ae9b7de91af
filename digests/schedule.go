package digests

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/robfig/cron/v3"

	"newsletter"
)

// defaultMaxLateness is how late a scheduled digest may still go out.
const defaultMaxLateness = time.Hour

// RunSchedule creates the digest for newsletter n's latest scheduled slot
// at or before now, once per slot however many workers call it, through
// the same path as an editor's request. A slot later than its newsletter's
// max_lateness is skipped and logged, never sent stale; a slot with no new
// articles sends nothing.
func (s *Service) RunSchedule(ctx context.Context, n *newsletter.Newsletter, log *slog.Logger) error {
	if n.Schedule == "" {
		return nil
	}
	slot, late, err := latestSlot(n, s.Now())
	if err != nil || slot.IsZero() {
		return err
	}
	first, err := s.Store.claimSlot(ctx, n.ID, slot)
	if err != nil || !first {
		return err
	}
	log = log.With("newsletter", n.ID, "slot", slot.Format(time.RFC3339))
	if late {
		log.Warn("Scheduled digest skipped: its slot passed more than max_lateness ago", "max_lateness", n.MaxLateness)
		return nil
	}
	d, _, err := s.Create(ctx, n.ID, Request{IdempotencyKey: "schedule:" + slot.Format(time.RFC3339)})
	switch {
	case newsletter.ErrorCode(err) == newsletter.ENOARTICLES:
		log.Info("Scheduled digest not sent: no new articles")
		return nil
	case err != nil:
		s.Store.releaseSlot(ctx, n.ID, slot) // let the next tick try again
		return fmt.Errorf("digests: scheduled digest of %s: %w", n.ID, err)
	}
	log.Info("Scheduled digest created", "digest_id", d.ID, "recipients", d.Counts.Total)
	return nil
}

// latestSlot returns the last time at or before now that n's schedule names,
// looking back a week at most, and whether it is later than max_lateness.
func latestSlot(n *newsletter.Newsletter, now time.Time) (slot time.Time, late bool, err error) {
	sched, err := cron.ParseStandard(n.Schedule)
	if err != nil {
		return time.Time{}, false, errors.New("digests: bad schedule of " + n.ID)
	}
	loc := location(n)
	now = now.In(loc)
	for t := sched.Next(now.Add(-7 * 24 * time.Hour)); !t.After(now); t = sched.Next(t) {
		slot = t
	}
	if slot.IsZero() {
		return slot, false, nil
	}
	return slot, now.Sub(slot) > maxLateness(n), nil
}

func maxLateness(n *newsletter.Newsletter) time.Duration {
	if d, err := time.ParseDuration(n.MaxLateness); err == nil && d > 0 {
		return d
	}
	return defaultMaxLateness
}
