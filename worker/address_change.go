package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"

	"newsletter"
	"newsletter/delivery"
	"newsletter/subscribers"
)

// TypeAddressChangeEmail is the task of one email of a change of address:
// the link to the new address, or the notice to the old one.
const TypeAddressChangeEmail = "email:address-change"

// addressChangePayload carries one email of a change of address. The
// token is sealed, as a confirmation's is; the notice has none.
type addressChangePayload struct {
	RequestID    string `json:"request_id,omitempty"`
	SubscriberID int64  `json:"sid"`
	Notice       bool   `json:"notice"` // the notice to the old address, else the link to the new
	OldEmail     string `json:"old_email"`
	NewEmail     string `json:"new_email"`
	SealedToken  string `json:"sealed_token,omitempty"` // the link's, or the notice's cancel link's
	Language     string `json:"language,omitempty"`
}

// SendAddressChange queues the two emails of a change of address: the
// link to the new address (in the confirmation queue, served first) and
// the notice to the old one.
func (e *Enqueuer) SendAddressChange(ctx context.Context, a subscribers.AddressChangeEmail) error {
	base := addressChangePayload{RequestID: newsletter.RequestID(ctx), SubscriberID: a.SubscriberID,
		OldEmail: a.OldEmail, NewEmail: a.NewEmail, Language: a.Language}
	link, notice := base, base
	link.SealedToken, notice.Notice, notice.SealedToken = e.sealer.Seal(a.Token), true, e.sealer.Seal(a.CancelToken)
	for _, p := range []addressChangePayload{link, notice} {
		task, err := newAddressChangeTask(p)
		if err != nil {
			return err
		}
		if _, err := e.client.EnqueueContext(ctx, task); err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
			return fmt.Errorf("worker: enqueue address change: %w", err)
		}
	}
	return nil
}

// newAddressChangeTask returns the task of one email of a change of
// address; the link goes in the confirmation queue. It has no task id: an
// id would name the address (or a hash of it, as easily guessed), and the
// confirmation limits already bound repeats.
func newAddressChangeTask(p addressChangePayload) (*asynq.Task, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	queue := QueueConfirm
	if p.Notice {
		queue = QueueDefault
	}
	return asynq.NewTask(TypeAddressChangeEmail, raw,
		asynq.Queue(queue), asynq.MaxRetry(12), asynq.Timeout(time.Minute)), nil
}

func (h *boundHandlers) handleAddressChange(ctx context.Context, t *asynq.Task) error {
	var p addressChangePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode address change task: %v: %w", err, asynq.SkipRetry)
	}
	a := delivery.AddressChange{OldEmail: p.OldEmail, NewEmail: p.NewEmail, Language: p.Language}
	token, err := h.sealer.Open(p.SealedToken)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	a.Token = token
	if p.Notice {
		return retryable(h.Engine.SendAddressNotice(ctx, a))
	}
	return retryable(h.Engine.SendAddressLink(ctx, a))
}
