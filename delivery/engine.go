// Package delivery is the sending engine: it turns a confirmation, a
// welcome or a batch of a digest into sent email. It loads what each needs,
// renders it, sends it through the mailer, records each digest outcome as
// it happens, pushes back when receivers ask, and suppresses addresses that
// bounce hard. It knows no queue: the worker package decodes tasks and
// calls it, and its tests call it directly.
package delivery

import (
	"errors"
	"log/slog"
	"time"

	"newsletter/bounces"
	"newsletter/digests"
	"newsletter/mailer"
	"newsletter/metrics"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/throttle"
)

// Engine sends the service's email. Its fields are set once, before the
// first call; an Engine is safe for concurrent use.
type Engine struct {
	Store   *subscribers.Store // newsletters and the suppression list
	Digests *digests.Store
	Signer  digests.Unsubscriber // signs digests' unsubscribe links
	// Bounces, when set (NEWSLETTER_BOUNCE_ADDRESS), gives each digest
	// message its own envelope sender (VERP) and a mailto unsubscribe.
	Bounces   *bounces.Addresses
	Templates *templates.Set
	Sender    mailer.Sender     // confirmation and welcome emails, on a connection of their own
	Bulk      mailer.BulkSender // digests, over the connection pool
	Throttle  *throttle.Send    // the global send rate and its push-back
	BaseURL   string            // public URL that links point to
	From      string            // default sender
	// PostalAddress is the sender's postal address that the footer of
	// digests and welcome emails prints when their newsletter has none of
	// its own; "" prints none.
	PostalAddress string
	// ConfirmTTL is how long a confirmation link lives, as the email tells.
	ConfirmTTL time.Duration
	LogLinks   bool // dev mode: log each confirmation link
	Logger     *slog.Logger
	Metrics    *metrics.Metrics // nil: none
	// Links, when set, sends digests' article links through their signed
	// click links (and adds the open pixel when it tracks opens).
	Links *digests.Links

	// RecordEvery is how many outcomes a digest batch holds before it
	// records them in one Redis call; 0 or 1 records each before the next
	// message goes out. A stop records what is held first, but a process
	// killed outright loses the outcomes it held, and their messages are
	// sent again: up to RecordEvery per SMTP connection instead of one.
	RecordEvery int
}

// ErrPermanent marks an error that trying again cannot fix: a task that
// carries it should be dropped, not retried.
var ErrPermanent = errors.New("delivery: permanent failure")

// ErrRetryBatch hands a batch back to be tried again later: some recipients
// met a temporary failure; the rest have their outcome recorded. The error
// that wraps it names the last cause.
var ErrRetryBatch = errors.New("delivery: batch has recipients to try again later")

// ErrStopping hands a batch back because the process is shutting down.
var ErrStopping = errors.New("delivery: stopping; batch handed back")
