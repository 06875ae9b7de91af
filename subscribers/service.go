package subscribers

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"newsletter"
)

// DefaultConfirmTTL is how long a confirmation link works unless configured.
const DefaultConfirmTTL = 7 * 24 * time.Hour

// Notifier sends the emails that subscribing sets off. The worker package
// implements it by queueing tasks. Confirmation emails reach it through the
// outbox (RelayConfirmations), welcome emails directly.
type Notifier interface {
	SendConfirmation(ctx context.Context, c ConfirmationEmail) error
	SendWelcome(ctx context.Context, w WelcomeEmail) error
}

// ConfirmationEmail asks for a confirmation email with a link carrying Token.
type ConfirmationEmail struct {
	SubscriberID int64
	Email        string
	Token        string
	Newsletters  []string
}

// WelcomeEmail asks for the welcome email of one newsletter.
type WelcomeEmail struct {
	SubscriberID int64
	Email        string
	Newsletter   string
}

// Service carries out readers' and editors' requests about subscribers.
type Service struct {
	Store    *Store
	Notifier Notifier
	Signer   *Signer // makes and checks unsubscribe tokens
	// Sealer makes and opens confirmation tokens (token.go); Subscribe,
	// the relay and Confirm fail without one.
	Sealer     *Sealer
	ConfirmTTL time.Duration
	// ConsentWording is the version of the consent wording the site's
	// forms show, kept in each consent record; "" keeps none.
	ConsentWording string
	// Limits caps confirmation emails per address and site-wide; nil sets
	// no limit.
	Limits *ConfirmLimits
	Now    func() time.Time
	Logger *slog.Logger

	relayOnce sync.Once
	relayID   string // relayOwner
}

// NewService returns a Service with the default confirmation lifetime, the
// real clock and no confirmation limits.
func NewService(store *Store, n Notifier, logger *slog.Logger) *Service {
	return &Service{Store: store, Notifier: n, ConfirmTTL: DefaultConfirmTTL, Now: time.Now, Logger: logger}
}

// Lookup returns everything held about the subscriber with address email.
func (s *Service) Lookup(ctx context.Context, email string) (*Subscriber, error) {
	id, err := s.lookupID(ctx, email)
	if err != nil {
		return nil, err
	}
	sub, err := s.Store.Subscriber(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("subscribers: lookup: %w", err)
	} else if sub == nil {
		return nil, errNotFound
	}
	return sub, nil
}

// Erase removes the subscriber with address email and all personal data
// held about it.
//
// A suppression entry holds the address too, so Erase removes it as well,
// also for an address that has no subscriber; otherwise the address would
// linger. An erased address that signs up again is therefore mailed again,
// until it bounces again.
func (s *Service) Erase(ctx context.Context, email string) error {
	id, err := s.lookupID(ctx, email)
	if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
		return s.eraseSuppression(ctx, email)
	} else if err != nil {
		return err
	}
	sub, err := s.Store.Subscriber(ctx, id)
	if err != nil {
		return fmt.Errorf("subscribers: erase: %w", err)
	}
	addr := email
	if sub != nil {
		addr = sub.Email
	}
	if err := s.Store.erase(ctx, id, addr); err != nil {
		return fmt.Errorf("subscribers: erase: %w", err)
	}
	if _, err := s.Store.Unsuppress(ctx, suppressionAddress(addr)); err != nil {
		return fmt.Errorf("subscribers: erase: %w", err)
	}
	return s.Store.durable(ctx, newsletter.PartitionOf(id))
}

var errNotFound = newsletter.Errorf(newsletter.ENOTFOUND, "No subscriber has this address.")

func (s *Service) lookupID(ctx context.Context, email string) (int64, error) {
	addr, err := NormalizeAddress(email)
	if err != nil {
		return 0, errNotFound
	}
	id, err := s.Store.SubscriberID(ctx, addr)
	if err != nil {
		return 0, fmt.Errorf("subscribers: lookup: %w", err)
	} else if id == 0 {
		return 0, errNotFound
	}
	return id, nil
}
