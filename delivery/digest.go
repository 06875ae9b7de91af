package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"newsletter/digests"
	"newsletter/i18n"
)

// StartDigest renders digest id's body once, marks the digest sending and
// returns the batches that send it. A digest that does not exist or has
// finished returns no batches and no error.
func (e *Engine) StartDigest(ctx context.Context, id string) (*digests.Digest, []digests.Batch, error) {
	d, err := e.loadDigest(ctx, id)
	if err != nil || d == nil || d.Status.Finished() {
		return d, nil, err
	}
	if _, err := e.body(ctx, d); err != nil {
		e.noteProblem(ctx, id, err)
		return d, nil, err
	}
	if _, err := e.Digests.StartSending(ctx, d.ID, time.Now()); err != nil {
		return d, nil, err
	}
	plan, err := e.Digests.Plan(ctx, d)
	return d, plan, err
}

// SendBatch sends batch b of its digest to each recipient without an
// outcome yet and records the outcomes. It returns an error wrapping
// ErrRetryBatch, with the last cause, when recipients are left for later,
// and ErrStopping when stop closed before the batch was done; whatever it
// returns, the outcomes of the messages that went out are recorded.
func (e *Engine) SendBatch(ctx context.Context, b digests.Batch, stop <-chan struct{}) error {
	err := e.sendDigestBatch(ctx, b, stop)
	e.noteProblem(ctx, b.Digest, err)
	return err
}

// noteProblem keeps err as the digest's last error, for editors to see,
// unless it is nil or a stop.
func (e *Engine) noteProblem(ctx context.Context, id string, err error) {
	if err == nil || errors.Is(err, ErrStopping) {
		return
	}
	if nerr := e.Digests.NoteProblem(context.WithoutCancel(ctx), id, err, time.Now()); nerr != nil {
		e.Logger.Warn("Unable to keep a digest's last error", "digest_id", id, "error", nerr)
	}
}

func (e *Engine) sendDigestBatch(ctx context.Context, b digests.Batch, stop <-chan struct{}) error {
	d, err := e.loadDigest(ctx, b.Digest)
	if err != nil || d == nil || d.Status != digests.StatusSending {
		return err
	}
	body, err := e.body(ctx, d)
	if err != nil {
		return err
	}
	n, err := e.Store.Newsletter(ctx, d.Newsletter)
	if err != nil || n == nil {
		return fmt.Errorf("digest %s: newsletter %s: %v", d.ID, d.Newsletter, err)
	}
	recipients, err := e.Digests.Recipients(ctx, d, b, e.Store)
	if err != nil {
		return err
	}
	env := digests.NewEnvelope(d, n, e.From, e.BaseURL, e.Signer)
	env.Language = i18n.Of(string(body.Language)) // greet in the body's language, whatever n says now
	if e.Bounces != nil {
		env.Mailto = e.Bounces.Unsubscribe
	}
	tpl, err := env.Template(body)
	if err != nil {
		return fmt.Errorf("digest %s: %v: %w", d.ID, err, ErrPermanent)
	}
	run := &batchRun{d: d, env: env, tpl: tpl, recorder: e.Digests.Recorder(d.ID, b.Partition), stop: stop}
	defer run.close()
	err = e.sendBatch(ctx, run, recipients)
	if ferr := e.flush(ctx, run, time.Now()); ferr != nil { // whatever stopped the run, what it holds went out
		return errors.Join(err, ferr)
	}
	if ferr := run.recorder.Finish(context.WithoutCancel(ctx), time.Now()); ferr != nil && err == nil {
		err = fmt.Errorf("digest %s: finish: %w", d.ID, ferr)
	}
	return err
}

func (e *Engine) canceled(ctx context.Context, id string) bool {
	st, err := e.Digests.Status(ctx, id)
	return err == nil && st != digests.StatusSending
}

// loadDigest returns digest id; a digest that does not exist is not retried.
func (e *Engine) loadDigest(ctx context.Context, id string) (*digests.Digest, error) {
	d, err := e.Digests.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if d == nil {
		e.Logger.Warn("Digest task for a digest that does not exist", "digest_id", id)
	}
	return d, nil
}

// body returns the digest's shared body, rendering and storing it once.
func (e *Engine) body(ctx context.Context, d *digests.Digest) (*digests.Body, error) {
	if b, err := e.Digests.Body(ctx, d.ID); b != nil || err != nil {
		return b, err
	}
	n, err := e.Store.Newsletter(ctx, d.Newsletter)
	if err != nil || n == nil {
		return nil, fmt.Errorf("digest %s: newsletter %s: %v", d.ID, d.Newsletter, err)
	}
	b, err := digests.Render(e.Templates, d, n, e.BaseURL, digests.WithPostalAddress(e.PostalAddress),
		digests.WithTemplate(n.DigestTemplate), digests.WithLinks(e.Links))
	if err != nil {
		return nil, fmt.Errorf("digest %s: render: %w", d.ID, err)
	}
	return e.Digests.SaveBody(ctx, d.ID, b)
}
