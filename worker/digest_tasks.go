package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"

	"newsletter"
	"newsletter/digests"
)

// Digest task types.
const (
	TypeDigest      = "digest:send"  // plans a digest and queues its batches
	TypeDigestBatch = "digest:batch" // sends one batch
)

type digestPayload struct {
	RequestID string `json:"request_id,omitempty"` // the editor's request, if any
	ID        string `json:"id"`
}

// newDigestTask returns the task that starts sending digest id; its task id
// makes a second dispatch a no-op while the first is queued (or scheduled).
// More options (asynq.ProcessAt) add to the defaults.
func newDigestTask(ctx context.Context, id string, opts ...asynq.Option) (*asynq.Task, error) {
	raw, err := json.Marshal(digestPayload{RequestID: newsletter.RequestID(ctx), ID: id})
	if err != nil {
		return nil, err
	}
	opts = append([]asynq.Option{asynq.TaskID("digest:" + id), asynq.Queue(QueueDefault),
		asynq.MaxRetry(20), asynq.Timeout(5 * time.Minute)}, opts...)
	return asynq.NewTask(TypeDigest, raw, opts...), nil
}

// newBatchTask returns the task that sends batch b; re-enqueueing the same
// batch while it is queued or running is a no-op.
func newBatchTask(b digests.Batch) (*asynq.Task, error) {
	raw, err := json.Marshal(b)
	if err != nil {
		return nil, err
	}
	id := "digest:" + b.Digest + ":" + strconv.Itoa(int(b.Partition)) + ":" + strconv.FormatInt(b.Start, 10)
	return asynq.NewTask(TypeDigestBatch, raw, asynq.TaskID(id),
		asynq.Queue(QueueBulk), asynq.MaxRetry(25), asynq.Timeout(15*time.Minute)), nil
}

// DispatchDigest queues digest id for sending; it implements
// digests.Dispatcher.
func (e *Enqueuer) DispatchDigest(ctx context.Context, id string) error {
	task, err := newDigestTask(ctx, id)
	if err != nil {
		return err
	}
	return enqueueOnce(ctx, e.client, task)
}

// ScheduleDigest queues digest id to start at at: the task waits in asynq's
// scheduled set, in Redis, so it survives restarts. It implements
// digests.Scheduler.
func (e *Enqueuer) ScheduleDigest(ctx context.Context, id string, at time.Time) error {
	task, err := newDigestTask(ctx, id, asynq.ProcessAt(at))
	if err != nil {
		return err
	}
	return enqueueOnce(ctx, e.client, task)
}

// enqueueOnce enqueues task, taking a task id conflict as success.
func enqueueOnce(ctx context.Context, c *asynq.Client, task *asynq.Task) error {
	_, err := c.EnqueueContext(ctx, task)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("worker: enqueue %s: %w", task.Type(), err)
	}
	return nil
}
