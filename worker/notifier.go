package worker

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/subscribers"
)

// Enqueuer queues the emails that the subscribers service asks for; it
// implements subscribers.Notifier.
type Enqueuer struct {
	client *asynq.Client
	sealer *subscribers.Sealer
}

// NewEnqueuer returns an Enqueuer on rdb that seals tokens with the first of
// secrets.
func NewEnqueuer(rdb redis.UniversalClient, secrets []string) (*Enqueuer, error) {
	s, err := subscribers.NewSealer(secrets)
	if err != nil {
		return nil, err
	}
	return &Enqueuer{client: asynq.NewClientFromRedisClient(rdb), sealer: s}, nil
}

// SendConfirmation queues a confirmation email; a second request for the
// same token while the first is queued is dropped.
func (e *Enqueuer) SendConfirmation(ctx context.Context, c subscribers.ConfirmationEmail) error {
	task, err := newConfirmationTask(confirmationPayload{RequestID: newsletter.RequestID(ctx), SubscriberID: c.SubscriberID, Email: c.Email,
		SealedToken: e.sealer.Seal(c.Token), Newsletters: c.Newsletters})
	if err != nil {
		return err
	}
	_, err = e.client.EnqueueContext(ctx, task, asynq.TaskID(confirmationTaskID(c.Token)))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("worker: enqueue confirmation: %w", err)
	}
	return nil
}

// confirmationTaskID names a confirmation email's task after its token (a
// hash of it: task ids show in the queue UI), so that an email the relay
// hands on again while the first is still queued is dropped.
func confirmationTaskID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "confirm:" + hex.EncodeToString(sum[:16])
}

// SendWelcome queues a welcome email; a second request for the same
// subscriber and newsletter while the first is queued is dropped.
func (e *Enqueuer) SendWelcome(ctx context.Context, w subscribers.WelcomeEmail) error {
	task, err := newWelcomeTask(welcomePayload{RequestID: newsletter.RequestID(ctx), SubscriberID: w.SubscriberID, Email: w.Email, Newsletter: w.Newsletter})
	if err != nil {
		return err
	}
	_, err = e.client.EnqueueContext(ctx, task)
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("worker: enqueue welcome: %w", err)
	}
	return nil
}
