package delivery

import (
	"context"
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
	stop     <-chan struct{} // closed when the process starts shutting down
	retry    bool            // some recipient must be tried again later
	cause    error           // why the last recipient left for later was
	tempRow  int             // temporary failures in a row
	finished bool            // stop sending this run
	// opened is the recipient whose transaction the last message opened
	// and its envelope sender, so that its tag is made once, not twice.
	opened struct {
		id   int64
		from string
	}
}

// close gives back the batch's Redis and SMTP connections.
func (run *batchRun) close() {
	_ = run.recorder.Close()
	if run.stream != nil {
		_ = run.stream.Close()
	}
}

// sendBatch sends to each recipient without an outcome yet, noting each
// outcome as it happens (recorded at once, or held as e.RecordEvery
// allows; the caller records what is held when the run ends), so that a
// batch handed back or retried skips whoever is done. It returns ErrRetryBatch when recipients are left for
// later, which makes asynq retry the batch with backoff.
func (e *Engine) sendBatch(ctx context.Context, run *batchRun, rs []digests.Recipient) error {
	suppressed, err := e.suppressed(ctx, rs)
	if err != nil {
		return err
	}
	toSend := func(i int) bool { return !rs[i].Done && !rs[i].Gone && !suppressed[i] }
	for i, r := range rs {
		if r.Done {
			continue
		}
		if err := e.beforeSend(ctx, run); err != nil || run.finished {
			return err
		}
		if !toSend(i) {
			if err := e.record(ctx, run, r.Bit, digests.Skipped); err != nil {
				return err
			}
			continue
		}
		var next *digests.Recipient
		if j := nextIndex(len(rs), i, toSend); j >= 0 {
			next = &rs[j]
		}
		if err := e.sendOne(ctx, run, r, next); err != nil {
			return err
		}
		if run.finished {
			break
		}
	}
	if run.retry {
		return fmt.Errorf("%w: %w", ErrRetryBatch, run.cause)
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
func (e *Engine) beforeSend(ctx context.Context, run *batchRun) error {
	select {
	case <-run.stop:
		return ErrStopping
	default:
	}
	now := time.Now()
	if err := e.flushIfDue(ctx, run, now); err != nil {
		return err
	}
	if now.Sub(run.checked) >= cancelCheckEvery {
		run.checked = now
		if e.canceled(ctx, run.d.ID) {
			run.finished = true
			return nil
		}
	}
	return e.Throttle.Wait(ctx)
}

// sendOne sends to one recipient, opening next's transaction on the way
// when next is not nil, and acts on the answer's class.
func (e *Engine) sendOne(ctx context.Context, run *batchRun, r digests.Recipient, next *digests.Recipient) error {
	if run.stream == nil {
		s, err := e.Bulk.Stream(ctx)
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
		out := mailer.Outgoing{From: e.returnPath(run, r), To: r.Email, Msg: msg, DotFree: true}
		if next != nil {
			out.Next, out.NextFrom = next.Email, e.returnPath(run, *next)
			run.opened.id, run.opened.from = next.SubscriberID, out.NextFrom
		}
		err = run.stream.Send(ctx, out)
	}
	e.Metrics.ObserveSend(run.d.Newsletter, metrics.KindDigest, time.Since(start), err)
	class := mailer.Classify(err)
	if class != mailer.Temporary && class != mailer.SlowDown {
		run.tempRow = 0
	}
	switch class {
	case mailer.Delivered:
		return e.record(ctx, run, r.Bit, digests.Sent)
	case mailer.Temporary:
		run.retry, run.cause, run.tempRow = true, err, run.tempRow+1
		run.finished = run.tempRow >= maxTemporaryInARow
		return nil
	case mailer.Local:
		run.retry, run.cause, run.finished = true, err, true
		e.Logger.Error("Unable to send a digest message: the fault is on this side (outbox, signing or template); the batch is handed back",
			"digest_id", run.d.ID, "error", err)
		return nil
	case mailer.SlowDown:
		run.retry, run.cause, run.finished = true, err, true
		e.Logger.Warn("Receiver asked to slow down; every worker sends slower for a while", "digest_id", run.d.ID, "error", err)
		return e.Throttle.SlowDown(ctx, slowDownFor)
	case mailer.HardBounce:
		if err := e.Store.Suppress(ctx, r.Email, err.Error(), subscribers.SourceSMTP, time.Now()); err != nil {
			return err
		}
	case mailer.Policy:
		return e.policyRefusal(ctx, run, r, err)
	}
	e.Logger.Warn("Digest message refused", "digest_id", run.d.ID, "subscriber_id", r.SubscriberID, "class", class.String(), "error", err)
	return e.record(ctx, run, r.Bit, digests.Failed)
}

// policyRefusal logs a 5.7.x refusal loudly: it is about the sender, not the
// reader. Past a threshold, every worker pauses sending.
func (e *Engine) policyRefusal(ctx context.Context, run *batchRun, r digests.Recipient, sendErr error) error {
	e.Logger.Error("Receiver refused a digest message by policy: check the sender's reputation, SPF, DKIM and DMARC",
		"digest_id", run.d.ID, "subscriber_id", r.SubscriberID, "error", sendErr)
	paused, err := e.Throttle.PolicyRefusal(ctx)
	if err != nil {
		return err
	}
	if paused {
		e.Logger.Error("Sending paused: too many policy refusals", "digest_id", run.d.ID)
		run.retry, run.cause, run.finished = true, sendErr, true
	}
	return e.record(ctx, run, r.Bit, digests.Failed)
}

// suppressed reports which recipients are on the suppression list.
func (e *Engine) suppressed(ctx context.Context, rs []digests.Recipient) ([]bool, error) {
	addrs := make([]string, len(rs))
	for i, r := range rs {
		addrs[i] = r.Email
	}
	return e.Store.Suppressed(ctx, addrs)
}

// recordWithin bounds the time between a batch run's records when it holds
// outcomes (see Engine.RecordEvery): when the last was longer ago, what
// the run holds is recorded before its next message. Sending slower than
// one message per recordWithin, every outcome is recorded before the next
// message goes out.
const recordWithin = 100 * time.Millisecond

// record notes one outcome, recording what the run holds once it holds
// e.RecordEvery outcomes or recordWithin has passed since its last record.
func (e *Engine) record(ctx context.Context, run *batchRun, bit int64, o digests.Outcome) error {
	run.recorder.Add(bit, o)
	return e.flushIfDue(ctx, run, time.Now())
}

// flushIfDue records what the run holds when it holds e.RecordEvery
// outcomes or its last record is recordWithin before now.
func (e *Engine) flushIfDue(ctx context.Context, run *batchRun, now time.Time) error {
	if n, since := run.recorder.Held(now); n == 0 || n < e.RecordEvery && since < recordWithin {
		return nil
	}
	return e.flush(ctx, run, now)
}

// flush records every outcome the run holds, at now. A message that went
// out must be recorded, or a retry would send it again, so a failing Redis
// is retried for a while.
func (e *Engine) flush(ctx context.Context, run *batchRun, now time.Time) error {
	ctx = context.WithoutCancel(ctx) // a shutdown must not lose what was sent
	var err error
	for wait := 100 * time.Millisecond; wait < 30*time.Second; wait *= 2 {
		if _, err = run.recorder.Flush(ctx, now); err == nil {
			return nil
		}
		e.Logger.Warn("Unable to record deliveries; trying again", "digest_id", run.d.ID, "error", err)
		time.Sleep(wait)
	}
	return fmt.Errorf("record deliveries: %w", err)
}

// returnPath is the envelope sender of the digest message to r: its own
// tagged bounce address (VERP) when NEWSLETTER_BOUNCE_ADDRESS is set, so a
// bounce that arrives later names r; else the message's From.
func (e *Engine) returnPath(run *batchRun, r digests.Recipient) string {
	if e.Bounces == nil || r.SubscriberID <= 0 {
		return run.tpl.From()
	}
	if run.opened.from != "" && run.opened.id == r.SubscriberID {
		return run.opened.from // made when the last message opened r's transaction
	}
	return e.Bounces.ReturnPath(r.SubscriberID)
}
