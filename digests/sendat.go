package digests

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"time"

	"newsletter"
)

// MaxScheduleAhead is how far ahead a digest may be scheduled.
const MaxScheduleAhead = 90 * 24 * time.Hour

// Scheduler queues a digest to start at a set time; the worker package
// implements it, next to Dispatcher, with a task processed then.
type Scheduler interface {
	ScheduleDigest(ctx context.Context, id string, at time.Time) error
}

// checkSendAt checks a request's send_at against now: in the future, at
// most MaxScheduleAhead away, and not for a test send.
func (r *Request) checkSendAt(now time.Time) error {
	switch {
	case r.SendAt.IsZero():
		return nil
	case !r.SendAt.After(now):
		return invalid("send_at", "send_at must be in the future.")
	case r.SendAt.Sub(now) > MaxScheduleAhead:
		return invalid("send_at", "send_at is at most 90 days ahead.")
	case len(r.TestRecipients) > 0:
		return invalid("send_at", "A test is sent at once: leave send_at out.")
	}
	return nil
}

// dispatch hands digest d to the dispatcher: at once, or at its SendAt.
func (s *Service) dispatch(ctx context.Context, d *Digest) error {
	if d.SendAt == nil {
		return s.Dispatcher.DispatchDigest(ctx, d.ID)
	}
	sched, ok := s.Dispatcher.(Scheduler)
	if !ok {
		return newsletter.Errorf(newsletter.EUNAVAILABLE, "Scheduled sends are not available here.")
	}
	return sched.ScheduleDigest(ctx, d.ID, *d.SendAt)
}

// ErrTooLate is returned by FreezeScheduled for a digest that started
// later than its newsletter's max_lateness after its send_at.
var ErrTooLate = errors.New("digests: scheduled digest started later than max_lateness")

// FreezeScheduled freezes the audience of scheduled digest id as its time
// comes, so that the readers confirmed by then get it. It does nothing for
// a digest sent at once, one frozen already, or one no longer queued (a
// canceled digest is never sent). A digest whose start comes more than its
// newsletter's max_lateness (an hour unless set) after its send_at, as
// when no worker ran then, is not sent stale: it fails with a last error
// that says why, gives its articles back as a cancel does, and
// FreezeScheduled returns ErrTooLate.
func (s *Service) FreezeScheduled(ctx context.Context, id string) error {
	if !ValidID(id) {
		return nil
	}
	pending, err := s.Store.audiencePending(ctx, id)
	if err != nil || !pending {
		return err
	}
	d, err := s.Store.Get(ctx, id)
	if err != nil || d == nil || d.Status != StatusQueued {
		return err
	}
	if late, err := s.tooLate(ctx, d); err != nil || late {
		return cmp.Or(err, ErrTooLate)
	}
	if err := s.Store.freeze(ctx, d, s.confirmedKey(d.Newsletter)); err != nil {
		return fmt.Errorf("digests: freeze audience of %s: %w", id, err)
	}
	return nil
}

// tooLate reports whether scheduled digest d starts now more than its
// newsletter's max_lateness after its send_at and, if so, marks it failed
// with a last error saying why and gives its articles back.
func (s *Service) tooLate(ctx context.Context, d *Digest) (bool, error) {
	if d.SendAt == nil {
		return false, nil
	}
	n, err := s.Readers.Newsletter(ctx, d.Newsletter)
	if err != nil {
		return false, err
	}
	limit, loc := defaultMaxLateness, time.UTC
	if n != nil {
		limit, loc = maxLateness(n), location(n)
	}
	now := s.Now()
	if now.Sub(*d.SendAt) <= limit {
		return false, nil
	}
	prev, err := s.Store.transition(ctx, d.ID, StatusFailed, now, StatusQueued)
	if err != nil || prev != StatusQueued {
		return false, err // canceled meanwhile
	}
	why := fmt.Errorf("Not sent: it was due at %s but started %s later, more than max_lateness (%s); its articles go to the next digest.",
		d.SendAt.In(loc).Format("Jan 2, 2006 15:04 MST"), now.Sub(*d.SendAt).Round(time.Minute), limit)
	if err := s.Store.NoteProblem(ctx, d.ID, why, now); err != nil {
		return true, err
	}
	return true, s.Store.giveBack(ctx, d)
}

// confirmedKey names newsletter nl's confirmed audience by partition.
func (s *Service) confirmedKey(nl string) AudienceKeyFunc {
	return func(p newsletter.Partition) string {
		return s.Readers.AudienceKey(nl, newsletter.StatusConfirmed, p)
	}
}

// Scheduled returns newsletter nl's digests that wait for their send_at,
// soonest first.
func (s *Service) Scheduled(ctx context.Context, nl string) ([]*Digest, error) {
	list, err := s.Store.Scheduled(ctx, nl)
	if err != nil {
		return nil, fmt.Errorf("digests: scheduled: %w", err)
	}
	return list, nil
}
