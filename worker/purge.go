package worker

import (
	"context"
	"errors"

	"github.com/hibiken/asynq"
)

// TypePurgeUnconfirmed deletes the subscriptions left unconfirmed too long,
// and the subscribers left with nothing; the same hourly task folds the
// click and open numbers of digests past their retention.
const TypePurgeUnconfirmed = "subscribers:purge"

// purgeCron runs the purge at the top of every hour, so that processes
// restarted more often than hourly do not put it off.
const purgeCron = "@hourly"

// handlePurgeUnconfirmed removes the subscriptions still pending after the
// configured time, and folds the numbers of digests past their retention
// (foldEngagement). A failed run is left to the next one, an hour later.
func (h *boundHandlers) handlePurgeUnconfirmed(ctx context.Context, _ *asynq.Task) error {
	return errors.Join(h.purgeUnconfirmed(ctx), h.foldEngagement(ctx))
}

func (h *boundHandlers) purgeUnconfirmed(ctx context.Context) error {
	if h.Subscribers == nil || h.UnconfirmedTTL <= 0 {
		return nil
	}
	n, err := h.Subscribers.PurgeUnconfirmed(ctx, h.UnconfirmedTTL)
	if n > 0 {
		h.Logger.Info("Unconfirmed subscriptions purged", "removed", n, "older_than", h.UnconfirmedTTL.String())
	}
	return err
}

// foldEngagement folds, for every newsletter, the click and open numbers
// of its digests that finished more than the retention ago into their
// hashes and deletes their sketches (digests.Store.Fold).
func (h *boundHandlers) foldEngagement(ctx context.Context) error {
	if h.DigestService == nil || h.Newsletters == nil {
		return nil
	}
	all, err := h.Newsletters.Newsletters(ctx)
	if err != nil {
		return err
	}
	var errs []error
	for _, n := range all {
		folded, err := h.DigestService.Store.Fold(ctx, n.ID, h.DigestService.Now())
		if err != nil {
			h.Logger.Warn("Unable to fold a newsletter's click numbers; trying again in an hour", "newsletter", n.ID, "error", err)
			errs = append(errs, err)
		}
		if folded > 0 {
			h.Logger.Info("Click and open numbers folded", "newsletter", n.ID, "digests", folded)
		}
	}
	return errors.Join(errs...)
}
