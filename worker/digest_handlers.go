package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"newsletter/digests"
)

func (h *Handlers) handleDigest(ctx context.Context, t *asynq.Task) error {
	var p digestPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode digest task: %v: %w", err, asynq.SkipRetry)
	}
	d, err := h.loadDigest(ctx, p.ID)
	if err != nil || d == nil || d.Status.Finished() {
		return err
	}
	if _, err := h.body(ctx, d); err != nil {
		return err
	}
	if _, err := h.Digests.StartSending(ctx, d.ID, time.Now()); err != nil {
		return err
	}
	plan, err := h.Digests.Plan(ctx, d)
	if err != nil {
		return err
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

func (h *Handlers) handleDigestBatch(ctx context.Context, t *asynq.Task) error {
	var b digests.Batch
	if err := json.Unmarshal(t.Payload(), &b); err != nil {
		return fmt.Errorf("decode batch task: %v: %w", err, asynq.SkipRetry)
	}
	d, err := h.loadDigest(ctx, b.Digest)
	if err != nil || d == nil || d.Status != digests.StatusSending {
		return err
	}
	body, err := h.body(ctx, d)
	if err != nil {
		return err
	}
	n, err := h.Store.Newsletter(ctx, d.Newsletter)
	if err != nil || n == nil {
		return fmt.Errorf("digest %s: newsletter %s: %v", d.ID, d.Newsletter, err)
	}
	recipients, err := h.Digests.Recipients(ctx, d, b, h.Store)
	if err != nil {
		return err
	}
	env := digests.NewEnvelope(d, n, h.From, h.BaseURL, h.Signer)
	tpl, err := env.Template(body)
	if err != nil {
		return fmt.Errorf("digest %s: %v: %w", d.ID, err, asynq.SkipRetry)
	}
	run := &batchRun{d: d, env: env, tpl: tpl, recorder: h.Digests.Recorder(d.ID)}
	defer run.close()
	err = h.sendBatch(ctx, run, recipients)
	if ferr := h.flush(ctx, run, time.Now()); ferr != nil { // whatever stopped the run, what it holds went out
		return errors.Join(err, ferr)
	}
	if ferr := run.recorder.Finish(context.WithoutCancel(ctx), time.Now()); ferr != nil && err == nil {
		err = fmt.Errorf("digest %s: finish: %w", d.ID, ferr)
	}
	return err
}

func (h *Handlers) canceled(ctx context.Context, id string) bool {
	st, err := h.Digests.Status(ctx, id)
	return err == nil && st != digests.StatusSending
}

// loadDigest returns digest id; a digest that does not exist is not retried.
func (h *Handlers) loadDigest(ctx context.Context, id string) (*digests.Digest, error) {
	d, err := h.Digests.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		h.Logger.Warn("Digest task for a digest that does not exist", "digest_id", id)
	}
	return d, nil
}

// body returns the digest's shared body, rendering and storing it once.
func (h *Handlers) body(ctx context.Context, d *digests.Digest) (*digests.Body, error) {
	if b, err := h.Digests.Body(ctx, d.ID); b != nil || err != nil {
		return b, err
	}
	n, err := h.Store.Newsletter(ctx, d.Newsletter)
	if err != nil || n == nil {
		return nil, fmt.Errorf("digest %s: newsletter %s: %v", d.ID, d.Newsletter, err)
	}
	b, err := digests.Render(h.Templates, d, n, h.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("digest %s: render: %w", d.ID, err)
	}
	return h.Digests.SaveBody(ctx, d.ID, b)
}
