package subscribers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"

	"newsletter"
)

// A change of address starts on the preference page: the new address gets
// a link that confirms the change, and the old one a notice. Until the
// link is used nothing changes, so mail keeps going to the old address.
// The change is pending in the subscriber's hash (field ne: the new
// address); a later request replaces it, so only the latest link works.
// Confirmed, the subscriber moves: its confirmed subscriptions, its name
// and its consent records go to the new address (its own subscriber, in
// the new address's partition, made or found), with one more record
// saying where they came from; then the old subscriber is erased.

// fieldNewEmail holds the address a pending change of address moves to.
const fieldNewEmail = "ne"

// AddressChangeEmail asks for the two emails of a change of address: to
// NewEmail, a link with Token that confirms it; to OldEmail, a notice.
type AddressChangeEmail struct {
	SubscriberID int64
	OldEmail     string
	NewEmail     string
	Token        string
	Language     string // of the emails: the reader's newsletters', as the page was
}

// AddressNotifier is a Notifier that also sends the emails of a change of
// address; the worker's Enqueuer is one.
type AddressNotifier interface {
	SendAddressChange(ctx context.Context, a AddressChangeEmail) error
}

// addressTokenPurpose starts the sealed text of an address token, which no
// confirmation token starts with (those start with a subscriber id whose
// first byte is 0 for any id below 2^56).
const addressTokenPurpose = "\xffaddress\x00"

var errInvalidAddressToken = &newsletter.Error{Code: newsletter.EINVALIDTOKEN,
	Message: "This link to confirm your new address is not valid any more. Please ask for the change again on your newsletter settings page.", Field: "token"}

// ErrSameAddress refuses a change of address to the address itself (in
// any spelling of the same mailbox).
var ErrSameAddress = newsletter.FieldError(newsletter.EINVALIDEMAIL, "email", "That is the address your newsletters go to already.")

// RequestAddressChange asks, for the reader of preferences token prefs,
// to move its newsletters to newEmail: the new address gets a link that
// confirms the change (within ConfirmTTL), the old one is told, both in
// language lang. The new address's confirmation limits apply, as for a
// signup.
func (s *Service) RequestAddressChange(ctx context.Context, prefs, newEmail, lang string) error {
	sub, err := s.PreferencesSubscriber(ctx, prefs)
	if err != nil {
		return err
	}
	addr, err := NormalizeAddress(newEmail)
	if err != nil {
		return err
	}
	if MailboxKey(addr) == MailboxKey(sub.Email) {
		return ErrSameAddress
	}
	n, ok := s.Notifier.(AddressNotifier)
	if !ok {
		return errors.New("subscribers: the Notifier cannot send address change emails")
	}
	now := s.Now()
	if err := s.takeAddressLimit(ctx, addr, now); err != nil {
		return err
	}
	if err := s.Store.rdb.HSet(ctx, keySubscriber(sub.ID), fieldNewEmail, addr).Err(); err != nil {
		return fmt.Errorf("subscribers: address change: %w", err)
	}
	return n.SendAddressChange(ctx, AddressChangeEmail{SubscriberID: sub.ID, OldEmail: sub.Email, NewEmail: addr,
		Token: s.Sealer.addressToken(sub.ID, addr, now), Language: lang})
}

// takeAddressLimit takes one email to addr from its confirmation limits.
func (s *Service) takeAddressLimit(ctx context.Context, addr string, now time.Time) error {
	if s.Limits == nil || s.Limits.Address == nil {
		return nil
	}
	wait, _, err := s.Limits.Address.Allow(ctx, confirmAddressKey(addr), now)
	if err != nil {
		return fmt.Errorf("subscribers: address change: %w", err)
	} else if wait > 0 {
		return &LimitedError{Wait: wait}
	}
	return nil
}

// AddressChange is a pending change of address, as its link names it.
type AddressChange struct {
	SubscriberID int64
	OldEmail     string
	NewEmail     string
}

// PendingAddressChange returns the change an address token confirms while
// it is still the subscriber's latest request and younger than ConfirmTTL.
func (s *Service) PendingAddressChange(ctx context.Context, token string) (*AddressChange, error) {
	id, addr, issued, ok := s.Sealer.parseAddressToken(token)
	if !ok || s.Now().After(issued.Add(s.ConfirmTTL)) {
		return nil, errInvalidAddressToken
	}
	vals, err := s.Store.rdb.HMGet(ctx, keySubscriber(id), fieldEmail, fieldNewEmail).Result()
	if err != nil {
		return nil, fmt.Errorf("subscribers: address change: %w", err)
	}
	if str(vals[0]) == "" || str(vals[1]) != addr {
		return nil, errInvalidAddressToken
	}
	return &AddressChange{SubscriberID: id, OldEmail: str(vals[0]), NewEmail: addr}, nil
}

// ConfirmAddressChange moves the subscriber of an address token to its new
// address and returns the subscriber id there.
func (s *Service) ConfirmAddressChange(ctx context.Context, token string, meta RequestMeta) (int64, error) {
	ch, err := s.PendingAddressChange(ctx, token)
	if err != nil {
		return 0, err
	}
	old, err := s.Store.Subscriber(ctx, ch.SubscriberID)
	if err != nil || old == nil {
		return 0, errors.Join(err, errInvalidAddressToken)
	}
	newID, err := s.Store.idFor(ctx, ch.NewEmail)
	if err != nil {
		return 0, fmt.Errorf("subscribers: address change: %w", err)
	}
	if err := s.adopt(ctx, newID, old, ch.NewEmail, meta); err != nil {
		return 0, fmt.Errorf("subscribers: address change: %w", err)
	}
	if err := s.Store.erase(ctx, old.ID, old.Email); err != nil {
		return 0, fmt.Errorf("subscribers: address change: %w", err)
	}
	return newID, s.Store.durable(ctx, newsletter.PartitionOf(newID))
}

// adopt gives subscriber id (of address addr, maybe new) what old had:
// its confirmed subscriptions, its name unless id has one, and its consent
// records, then a record of the move.
func (s *Service) adopt(ctx context.Context, id int64, old *Subscriber, addr string, meta RequestMeta) error {
	now := s.Now()
	if err := s.Store.rdb.HSetNX(ctx, keySubscriber(id), fieldEmail, addr).Err(); err != nil {
		return err
	}
	if old.Name != "" {
		if err := s.Store.rdb.HSetNX(ctx, keySubscriber(id), fieldName, old.Name).Err(); err != nil {
			return err
		}
	}
	moved := old.Newsletters(newsletter.StatusConfirmed)
	for _, nl := range moved {
		for _, t := range []string{transSubscribe, transConfirm} {
			if _, err := s.Store.transition(ctx, id, nl, t, now); err != nil {
				return err
			}
		}
	}
	for _, c := range old.Consent {
		if err := s.Store.AddConsent(ctx, id, c); err != nil {
			return err
		}
	}
	move := Consent{Action: ActionConfirm, Newsletters: moved, At: now, IP: meta.IP, UserAgent: meta.UserAgent,
		Source: "address change from " + old.Email, Wording: s.ConsentWording}
	return s.Store.AddConsent(ctx, id, move)
}

// addressToken seals subscriber id, the new address and the second the
// change was asked.
func (s *Sealer) addressToken(id int64, addr string, issued time.Time) string {
	b := make([]byte, 0, len(addressTokenPurpose)+12+len(addr))
	b = append(b, addressTokenPurpose...)
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	b = binary.BigEndian.AppendUint32(b, uint32(issued.Unix()))
	return s.Seal(string(append(b, addr...)))
}

// parseAddressToken opens what addressToken sealed.
func (s *Sealer) parseAddressToken(token string) (id int64, addr string, issued time.Time, ok bool) {
	if len(token) > maxConfirmToken {
		return 0, "", time.Time{}, false
	}
	plain, err := s.Open(token)
	rest, found := strings.CutPrefix(plain, addressTokenPurpose)
	if err != nil || !found || len(rest) <= 12 {
		return 0, "", time.Time{}, false
	}
	id = int64(binary.BigEndian.Uint64([]byte(rest[:8])))
	issued = time.Unix(int64(binary.BigEndian.Uint32([]byte(rest[8:12]))), 0).UTC()
	return id, rest[12:], issued, id > 0
}

// idFor returns the subscriber id of addr, made (holding nothing yet) when
// the address has none.
func (s *Store) idFor(ctx context.Context, addr string) (int64, error) {
	p := PartitionOf(addr)
	return createScript.Run(ctx, s.rdb, []string{keyIndex(p), keyNext(p)}, AddressKey(addr), int(p)).Int64()
}
