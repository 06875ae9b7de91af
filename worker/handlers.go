package worker

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/hibiken/asynq"

	"newsletter/articles"
	"newsletter/digests"
	"newsletter/mailer"
	"newsletter/metrics"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/throttle"
)

// Handlers turns tasks into sent email. Each handler loads what it needs,
// renders a template and sends.
type Handlers struct {
	Store   *subscribers.Store
	Digests *digests.Store
	// DigestService creates scheduled digests.
	DigestService *digests.Service
	Poller        *articles.Poller    // polls newsletters' feeds
	Signer        *subscribers.Signer // unsubscribe links
	Templates     *templates.Set
	Sender        mailer.Sender     // confirmation and welcome emails, on a connection of their own
	Bulk          mailer.BulkSender // digests, over the connection pool
	Throttle      *throttle.Send    // the global send rate and its push-back
	BaseURL       string            // public URL that links point to
	From          string            // default sender
	ConfirmTTL    time.Duration     // told to the reader in the confirmation email
	LogLinks      bool              // dev mode: log each confirmation link
	Logger        *slog.Logger
	Metrics       *metrics.Metrics // nil: none

	// RecordEvery is how many outcomes a digest batch holds before it
	// records them in one Redis call; 0 or 1 records each before the next
	// message goes out. A stop records what is held first, but a worker
	// killed outright loses the outcomes it held, and their messages are
	// sent again: up to RecordEvery per SMTP connection instead of one.
	RecordEvery int

	// Subscribers relays confirmation emails from its outbox to the queue
	// while the worker runs, and runs the purge of unconfirmed
	// subscriptions, those older than UnconfirmedTTL; nil relays and
	// purges nothing, as does an UnconfirmedTTL of 0 for the purge.
	Subscribers    *subscribers.Service
	UnconfirmedTTL time.Duration

	sealer   *subscribers.Sealer
	client   *asynq.Client // queues batches
	stopping chan struct{} // closed when the worker starts shutting down
}

// newsletterView is what templates see of a newsletter.
type newsletterView struct {
	ID, Name, Description string
}

// confirmData is what the confirmation email shows: the address and the
// newsletters' names, never anything else the signer typed, so that the
// form cannot relay anyone's text.
type confirmData struct {
	Email       string
	Link        string // confirms
	NotMeLink   string // "This wasn't me": suppresses the address
	ValidFor    string
	Newsletters []newsletterView
}

type welcomeData struct {
	Email      string
	Newsletter newsletterView
}

func (h *Handlers) handleConfirmation(ctx context.Context, t *asynq.Task) error {
	var p confirmationPayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode confirmation task: %v: %w", err, asynq.SkipRetry)
	}
	token, err := h.sealer.Open(p.SealedToken)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	nls, from, err := h.newsletters(ctx, p.Newsletters)
	if err != nil {
		return err
	}
	link := h.BaseURL + "/confirm?token=" + url.QueryEscape(token)
	data := confirmData{Email: p.Email, Link: link, NotMeLink: h.BaseURL + "/not-me?token=" + url.QueryEscape(token),
		ValidFor: templates.HumanDuration(h.ConfirmTTL), Newsletters: nls}
	if err := h.send(ctx, "confirm", firstOf(p.Newsletters), from, p.Email, data); err != nil {
		return err
	}
	if h.LogLinks {
		h.Logger.Info("Dev mode: confirmation link", "request_id", p.RequestID, "email", p.Email, "link", link)
	}
	return nil
}

func (h *Handlers) handleWelcome(ctx context.Context, t *asynq.Task) error {
	var p welcomePayload
	if err := json.Unmarshal(t.Payload(), &p); err != nil {
		return fmt.Errorf("decode welcome task: %v: %w", err, asynq.SkipRetry)
	}
	nls, from, err := h.newsletters(ctx, []string{p.Newsletter})
	if err != nil {
		return err
	}
	if len(nls) == 0 {
		return nil // the newsletter is gone: nobody to welcome to
	}
	return h.send(ctx, "welcome", p.Newsletter, from, p.Email, welcomeData{Email: p.Email, Newsletter: nls[0]})
}

// newsletters loads the named newsletters that still exist, and the sender
// to use: the newsletter's own when there is one newsletter, else the default.
func (h *Handlers) newsletters(ctx context.Context, ids []string) ([]newsletterView, string, error) {
	var views []newsletterView
	from := h.From
	for _, id := range ids {
		n, err := h.Store.Newsletter(ctx, id)
		if err != nil {
			return nil, "", err
		}
		if n == nil {
			continue
		}
		views = append(views, newsletterView{ID: n.ID, Name: n.Name, Description: n.Description})
		if len(ids) == 1 && n.From != "" {
			from = n.From
		}
	}
	return views, from, nil
}

// send renders email name for one recipient and sends it. A permanent
// refusal is not retried.
// kinds maps email templates to the kind label of the message metrics.
var kinds = map[string]string{"confirm": metrics.KindConfirmation, "welcome": metrics.KindWelcome}

func firstOf(list []string) string {
	if len(list) == 0 {
		return ""
	}
	return list[0]
}

func (h *Handlers) send(ctx context.Context, name, nl, from, to string, data any) error {
	if suppressed, err := h.Store.Suppressed(ctx, []string{to}); err != nil || suppressed[0] {
		return err // never mail a suppressed address
	}
	r, err := h.Templates.RenderEmail(name, data)
	if err != nil {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	msg := &mailer.Message{From: from, To: to, Subject: r.Subject, Text: r.Text, HTML: r.HTML,
		Headers: map[string]string{"Auto-Submitted": "auto-generated"}}
	start := time.Now()
	err = h.Sender.Send(ctx, msg)
	h.Metrics.ObserveSend(nl, kinds[name], time.Since(start), err)
	if err != nil {
		if !mailer.IsTemporary(err) {
			return fmt.Errorf("send %s email: %w: %w", name, err, asynq.SkipRetry)
		}
		return fmt.Errorf("send %s email: %w", name, err)
	}
	return nil
}
