package worker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"newsletter/digests"
	"newsletter/mailer"
	"newsletter/metrics"
	"newsletter/subscribers"
)

// cancelCheckEvery is how often a batch looks at whether its digest was
// canceled.
const cancelCheckEvery = 200 * time.Millisecond

// slowDownFor is how long every worker sends slower after a receiver asks.
const slowDownFor = time.Minute

// maxTemporaryInARow ends a batch early: so many temporary failures in a
// row mean the server, not the recipients, is in trouble.
const maxTemporaryInARow = 3

// errRetryBatch hands a batch back to the queue: some recipients met a
// temporary failure; the rest have their outcome recorded.
var errRetryBatch = errors.New("worker: batch has recipients to try again later")

// errStopping hands a batch back because the worker is shutting down.
var errStopping = errors.New("worker: stopping; batch handed back")

// batchRun is one run of one batch.
type batchRun struct {
	d        *digests.Digest
	env      *digests.Envelope
	tpl      *mailer.Template // the message, encoded once for the batch
	recorder *digests.Recorder
	stream   mailer.Stream   // the connection the batch holds, taken at its first message
	personal mailer.Personal // reused for every recipient
	msg      []byte          // reused for every recipient
	checked  time.Time       // when the batch last looked for a cancel
	retry    bool            // some recipient must be tried again later
	tempRow  int             // temporary failures in a row
	finished bool            // stop sending this run
}

// close gives back the batch's Redis and SMTP connections.
func (run *batchRun) close() {
	_ = run.recorder.Close()
	if run.stream != nil {
		_ = run.stream.Close()
	}
}

// sendBatch sends to each recipient without an outcome yet, noting each
// outcome as it happens (recorded at once, or held as h.RecordEvery
// allows; the caller records what is held when the run ends), so that a
// batch handed back or retried skips whoever is done. It returns errRetryBatch when recipients are left for
// later, which makes asynq retry the batch with backoff.
func (h *Handlers) sendBatch(ctx context.Context, run *batchRun, rs []digests.Recipient) error {
	suppressed, err := h.suppressed(ctx, rs)
	if err != nil {
		return err
	}
	toSend := func(i int) bool { return !rs[i].Done && !rs[i].Gone && !suppressed[i] }
	for i, r := range rs {
		if r.Done {
			continue
		}
		if err := h.beforeSend(ctx, run); err != nil || run.finished {
			return err
		}
		if !toSend(i) {
			if err := h.record(ctx, run, r.Bit, digests.Skipped); err != nil {
				return err
			}
			continue
		}
		next := ""
		if j := nextIndex(len(rs), i, toSend); j >= 0 {
			next = rs[j].Email
		}
		if err := h.sendOne(ctx, run, r, next); err != nil {
			return err
		}
		if run.finished {
			break
		}
	}
	if run.retry {
		return errRetryBatch
	}
	return nil
}

// nextIndex returns the first index after i that ok accepts, or -1.
func nextIndex(n, i int, ok func(int) bool) int {
	for j := i + 1; j < n; j++ {
		if ok(j) {
			return j
		}
	}
	return -1
}

// beforeSend stops the batch when the worker stops or the digest was
// canceled, records the outcomes held when they are due, and waits for
// the global send rate.
func (h *Handlers) beforeSend(ctx context.Context, run *batchRun) error {
	select {
	case <-h.stopping:
		return errStopping
	default:
	}
	now := time.Now()
	if err := h.flushIfDue(ctx, run, now); err != nil {
		return err
	}
	if now.Sub(run.checked) >= cancelCheckEvery {
		run.checked = now
		if h.canceled(ctx, run.d.ID) {
			run.finished = true
			return nil
		}
	}
	return h.Throttle.Wait(ctx)
}

// sendOne sends to one recipient, opening next's transaction on the way
// when next is not "", and acts on the answer's class.
func (h *Handlers) sendOne(ctx context.Context, run *batchRun, r digests.Recipient, next string) error {
	if run.stream == nil {
		s, err := h.Bulk.Stream(ctx)
		if err != nil {
			return err
		}
		run.stream = s
	}
	run.env.Personal(run.d, r, &run.personal)
	start := time.Now()
	msg, err := run.tpl.Append(run.msg[:0], &run.personal, start)
	if err == nil {
		run.msg = msg
		err = run.stream.Send(ctx, mailer.Outgoing{From: run.tpl.From(), To: r.Email, Msg: msg, Next: next, DotFree: true})
	}
	h.Metrics.ObserveSend(run.d.Newsletter, metrics.KindDigest, time.Since(start), err)
	class := mailer.Classify(err)
	if class != mailer.Temporary && class != mailer.SlowDown {
		run.tempRow = 0
	}
	switch class {
	case mailer.Delivered:
		return h.record(ctx, run, r.Bit, digests.Sent)
	case mailer.Temporary:
		run.retry, run.tempRow = true, run.tempRow+1
		run.finished = run.tempRow >= maxTemporaryInARow
		return nil
	case mailer.SlowDown:
		run.retry, run.finished = true, true
		h.Logger.Warn("Receiver asked to slow down; every worker sends slower for a while", "digest_id", run.d.ID, "error", err)
		return h.Throttle.SlowDown(ctx, slowDownFor)
	case mailer.HardBounce:
		if err := h.Store.Suppress(ctx, r.Email, err.Error(), subscribers.SourceSMTP, time.Now()); err != nil {
			return err
		}
	case mailer.Policy:
		return h.policyRefusal(ctx, run, r, err)
	}
	h.Logger.Warn("Digest message refused", "digest_id", run.d.ID, "subscriber_id", r.SubscriberID, "class", class.String(), "error", err)
	return h.record(ctx, run, r.Bit, digests.Failed)
}

// policyRefusal logs a 5.7.x refusal loudly: it is about the sender, not the
// reader. Past a threshold, every worker pauses sending.
func (h *Handlers) policyRefusal(ctx context.Context, run *batchRun, r digests.Recipient, sendErr error) error {
	h.Logger.Error("Receiver refused a digest message by policy: check the sender's reputation, SPF, DKIM and DMARC",
		"digest_id", run.d.ID, "subscriber_id", r.SubscriberID, "error", sendErr)
	paused, err := h.Throttle.PolicyRefusal(ctx)
	if err != nil {
		return err
	}
	if paused {
		h.Logger.Error("Sending paused: too many policy refusals", "digest_id", run.d.ID)
		run.retry, run.finished = true, true
	}
	return h.record(ctx, run, r.Bit, digests.Failed)
}

// suppressed reports which recipients are on the suppression list.
func (h *Handlers) suppressed(ctx context.Context, rs []digests.Recipient) ([]bool, error) {
	addrs := make([]string, len(rs))
	for i, r := range rs {
		addrs[i] = r.Email
	}
	return h.Store.Suppressed(ctx, addrs)
}

// recordWithin bounds the time between a batch run's records when it holds
// outcomes (see Handlers.RecordEvery): when the last was longer ago, what
// the run holds is recorded before its next message. Sending slower than
// one message per recordWithin, every outcome is recorded before the next
// message goes out.
const recordWithin = 100 * time.Millisecond

// record notes one outcome, recording what the run holds once it holds
// h.RecordEvery outcomes or recordWithin has passed since its last record.
func (h *Handlers) record(ctx context.Context, run *batchRun, bit int64, o digests.Outcome) error {
	run.recorder.Add(bit, o)
	return h.flushIfDue(ctx, run, time.Now())
}

// flushIfDue records what the run holds when it holds h.RecordEvery
// outcomes or its last record is recordWithin before now.
func (h *Handlers) flushIfDue(ctx context.Context, run *batchRun, now time.Time) error {
	if n, since := run.recorder.Held(now); n == 0 || n < h.RecordEvery && since < recordWithin {
		return nil
	}
	return h.flush(ctx, run, now)
}

// flush records every outcome the run holds, at now. A message that went
// out must be recorded, or a retry would send it again, so a failing Redis
// is retried for a while.
func (h *Handlers) flush(ctx context.Context, run *batchRun, now time.Time) error {
	ctx = context.WithoutCancel(ctx) // a shutdown must not lose what was sent
	var err error
	for wait := 100 * time.Millisecond; wait < 30*time.Second; wait *= 2 {
		if _, err = run.recorder.Flush(ctx, now); err == nil {
			return nil
		}
		h.Logger.Warn("Unable to record deliveries; trying again", "digest_id", run.d.ID, "error", err)
		time.Sleep(wait)
	}
	return fmt.Errorf("record deliveries: %w", err)
}
