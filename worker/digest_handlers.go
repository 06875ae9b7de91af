package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"

	"newsletter/digests"
)

// handleDigest starts a digest and queues its batches; a scheduled
// digest's audience is frozen first, now that its time has come.
func (h *boundHandlers) handleDigest(ctx context.Context, t *asynq.Task) error {
	var p digestPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode digest task: %v: %w", err, asynq.SkipRetry)
	}
	if h.DigestService != nil {
		err := h.DigestService.FreezeScheduled(ctx, p.ID)
		if errors.Is(err, digests.ErrTooLate) {
			h.Logger.Warn("Scheduled digest not sent: it started later than max_lateness", "request_id", p.RequestID, "digest_id", p.ID)
			return nil
		} else if err != nil {
			return err
		}
	}
	d, plan, err := h.Engine.StartDigest(ctx, p.ID)
	if err != nil || len(plan) == 0 {
		return retryable(err)
	}
	for _, b := range plan {
		task, err := newBatchTask(b)
		if err != nil {
			return err
		}
		if err := enqueueOnce(ctx, h.client, task); err != nil {
			return err
		}
	}
	h.Logger.Info("Digest planned", "request_id", p.RequestID, "digest_id", d.ID, "newsletter", d.Newsletter, "recipients", d.Counts.Total)
	return nil
}

// handleDigestBatch sends one batch; asynq retries it with backoff while
// recipients are left for later.
func (h *boundHandlers) handleDigestBatch(ctx context.Context, t *asynq.Task) error {
	var b digests.Batch
	if err := json.Unmarshal(t.Payload(), &b); err != nil {
		return fmt.Errorf("decode batch task: %v: %w", err, asynq.SkipRetry)
	}
	return retryable(h.Engine.SendBatch(ctx, b, h.stopping))
}
