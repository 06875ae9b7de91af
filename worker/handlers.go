package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"

	"newsletter"
	"newsletter/articles"
	"newsletter/delivery"
	"newsletter/digests"
	"newsletter/subscribers"
)

// Handlers is what the tasks call: the sending engine for email, the
// services for the chores. NewServer binds it to a server and leaves it as
// it is.
type Handlers struct {
	Engine *delivery.Engine
	// DigestService creates scheduled digests.
	DigestService *digests.Service
	Newsletters   newsletter.NewsletterReader // whose schedules and feeds to run
	Poller        *articles.Poller            // polls newsletters' feeds
	Logger        *slog.Logger

	// Subscribers relays confirmation emails from its outbox to the queue
	// while the worker runs, and runs the purge of unconfirmed
	// subscriptions, those older than UnconfirmedTTL; nil relays and
	// purges nothing, as does an UnconfirmedTTL of 0 for the purge.
	Subscribers    *subscribers.Service
	UnconfirmedTTL time.Duration
}

// boundHandlers are Handlers bound to one Server: the sealer that opens
// tokens in payloads, the client that queues batches, and the server's stop
// signal.
type boundHandlers struct {
	*Handlers
	sealer   *subscribers.Sealer
	client   *asynq.Client
	stopping chan struct{} // closed when the worker starts shutting down
}

func (h *boundHandlers) handleConfirmation(ctx context.Context, t *asynq.Task) error {
	var p confirmationPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode confirmation task: %v: %w", err, asynq.SkipRetry)
	}
	token, err := h.sealer.Open(p.SealedToken)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return retryable(h.Engine.SendConfirmation(ctx, delivery.Confirmation{RequestID: p.RequestID,
		Email: p.Email, Token: token, Newsletters: p.Newsletters}))
}

func (h *boundHandlers) handleWelcome(ctx context.Context, t *asynq.Task) error {
	var p welcomePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode welcome task: %v: %w", err, asynq.SkipRetry)
	}
	return retryable(h.Engine.SendWelcome(ctx, delivery.Welcome{SubscriberID: p.SubscriberID, Email: p.Email, Newsletter: p.Newsletter}))
}

// retryable marks the engine's permanent failures so that asynq drops the
// task instead of retrying it.
func retryable(err error) error {
	if errors.Is(err, delivery.ErrPermanent) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}
