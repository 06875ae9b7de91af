package worker

import (
	"context"

	"github.com/hibiken/asynq"
)

// TypePurgeUnconfirmed deletes the subscriptions left unconfirmed too long,
// and the subscribers left with nothing.
const TypePurgeUnconfirmed = "subscribers:purge"

// purgeCron runs the purge at the top of every hour, so that processes
// restarted more often than hourly do not put it off.
const purgeCron = "@hourly"

// handlePurgeUnconfirmed removes the subscriptions still pending after the
// configured time. A failed run is left to the next one, an hour later.
func (h *boundHandlers) handlePurgeUnconfirmed(ctx context.Context, _ *asynq.Task) error {
	if h.Subscribers == nil || h.UnconfirmedTTL <= 0 {
		return nil
	}
	n, err := h.Subscribers.PurgeUnconfirmed(ctx, h.UnconfirmedTTL)
	if n > 0 {
		h.Logger.Info("Unconfirmed subscriptions purged", "removed", n, "older_than", h.UnconfirmedTTL.String())
	}
	return err
}
