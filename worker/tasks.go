// Package worker is the asynq adapter of the background work: task type
// names, payloads and constructors, thin handlers that decode a task and
// call the sending engine (package delivery) or a service, the servers
// that run them, and the scheduler of periodic tasks. Confirmation emails have a queue of their own that
// is always served first, so a reader never waits behind a digest.
package worker

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
)

// Task types.
const (
	TypeConfirmationEmail = "email:confirmation"
	TypeWelcomeEmail      = "email:welcome"
)

// Queues, in the order they are served: a task in an earlier queue always
// goes before any task in a later one.
const (
	QueueConfirm = "confirm" // confirmation emails
	QueueDefault = "default" // welcome emails and small chores
	QueueBulk    = "bulk"    // digest batches
)

// queuePriorities are the queues of the server for small tasks; digest
// batches have a server of their own.
var queuePriorities = map[string]int{QueueConfirm: 6, QueueDefault: 3}

// confirmationPayload carries a confirmation email's request. The token is
// sealed, so the queue in Redis holds nothing that could confirm anyone.
type confirmationPayload struct {
	RequestID    string   `json:"request_id,omitempty"` // the signup that asked for it
	SubscriberID int64    `json:"sid"`
	Email        string   `json:"email"`
	SealedToken  string   `json:"sealed_token"`
	Newsletters  []string `json:"newsletters"`
}

type welcomePayload struct {
	RequestID    string `json:"request_id,omitempty"` // the confirmation that asked for it
	SubscriberID int64  `json:"sid"`
	Email        string `json:"email"`
	Newsletter   string `json:"newsletter"`
}

// newConfirmationTask returns the task that sends one confirmation email.
func newConfirmationTask(p confirmationPayload) (*asynq.Task, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	return asynq.NewTask(TypeConfirmationEmail, raw,
		asynq.Queue(QueueConfirm), asynq.MaxRetry(12), asynq.Timeout(time.Minute)), nil
}

// newWelcomeTask returns the task that sends one welcome email. Its id makes
// a second enqueue for the same subscriber and newsletter a no-op while the
// first is pending.
func newWelcomeTask(p welcomePayload) (*asynq.Task, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	id := "welcome:" + strconv.FormatInt(p.SubscriberID, 10) + ":" + p.Newsletter
	return asynq.NewTask(TypeWelcomeEmail, raw, asynq.TaskID(id),
		asynq.Queue(QueueDefault), asynq.MaxRetry(12), asynq.Timeout(time.Minute)), nil
}
