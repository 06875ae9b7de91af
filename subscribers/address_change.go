package subscribers

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// A change of address starts on the preference page: the new address gets
// a link that confirms the change, and the old one a notice. Until the
// link is used nothing changes, so mail keeps going to the old address.
// The change is pending in the subscriber's hash (field ne: the new
// address and the second it was asked); a later request replaces it, so
// only the latest link works. Confirming first takes the pending change
// away in one step (claimChangeScript), so of two clicks at once one
// moves and the other finds nothing. Then the subscriber moves: its
// confirmed subscriptions, its name and its consent records go to the new
// address (its own subscriber, in the new address's partition, made or
// found), with one more record saying where they came from; then the old
// subscriber is erased, leaving a pointer to the new id (keyMoved, no
// address in it) that the old links follow: an unsubscribe link of an
// earlier email still unsubscribes, now at the new address.

// fieldNewEmail holds a pending change of address: the new address and
// the unix second it was asked, as "addr|second".
const fieldNewEmail = "ne"

// movedFor is how long the pointer from a moved subscriber's old id to its
// new one lasts: the links of the emails sent before the move follow it.
const movedFor = 365 * 24 * time.Hour

// keyMoved names the pointer from moved subscriber id to its new id.
func keyMoved(id int64) string {
	return partitionKey(newsletter.PartitionOf(id), "moved:"+strconv.FormatInt(id, 10))
}

// askChangeScript notes a pending change (ARGV[2]) on subscriber hash
// KEYS[1] only while its address is still ARGV[1]: an erased or moved
// subscriber gets no record back.
var askChangeScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], '` + fieldEmail + `') ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], '` + fieldNewEmail + `', ARGV[2])
return 1
`)

// claimChangeScript takes the pending change ARGV[1] off subscriber hash
// KEYS[1] and returns 1, or returns 0 when it is not the pending one.
var claimChangeScript = redis.NewScript(`
if redis.call('HGET', KEYS[1], '` + fieldNewEmail + `') ~= ARGV[1] then return 0 end
redis.call('HDEL', KEYS[1], '` + fieldNewEmail + `')
return 1
`)

// pendingValue is field ne's value for a change to addr asked at issued.
func pendingValue(addr string, issued time.Time) string {
	return addr + "|" + strconv.FormatInt(issued.Unix(), 10)
}

// AddressChangeEmail asks for the two emails of a change of address: to
// NewEmail, a link with Token that confirms it; to OldEmail, a notice with
// a link with CancelToken that cancels it.
type AddressChangeEmail struct {
	SubscriberID int64
	OldEmail     string
	NewEmail     string
	Token        string
	CancelToken  string
	Language     string // of the emails: the reader's newsletters', as the page was
}

// AddressNotifier is a Notifier that also sends the emails of a change of
// address; the worker's Enqueuer is one.
type AddressNotifier interface {
	SendAddressChange(ctx context.Context, a AddressChangeEmail) error
}

// addressTokenPurpose starts the sealed text of an address token, which no
// confirmation token starts with (those start with a subscriber id whose
// first byte is 0 for any id below 2^56); cancelTokenPurpose starts that
// of the token in the notice to the old address, which cancels the change
// and can do nothing else.
const (
	addressTokenPurpose = "\xffaddress\x00"
	cancelTokenPurpose  = "\xffcancel\x00"
)

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
	if err := s.takeAddressLimits(ctx, sub.Email, addr, now); err != nil {
		return err
	}
	noted, err := askChangeScript.Run(ctx, s.Store.rdb, []string{keySubscriber(sub.ID)}, sub.Email, pendingValue(addr, now)).Int()
	if err != nil {
		return fmt.Errorf("subscribers: address change: %w", err)
	} else if noted == 0 {
		return errInvalidPreferences // erased or moved meanwhile
	}
	return n.SendAddressChange(ctx, AddressChangeEmail{SubscriberID: sub.ID, OldEmail: sub.Email, NewEmail: addr,
		Token: s.Sealer.addressToken(sub.ID, addr, now), CancelToken: s.Sealer.cancelToken(sub.ID, addr, now), Language: lang})
}

// takeAddressLimits takes the two emails of a change from the
// confirmation limits: the link to the new address and the notice to the
// old one from windows of the same rates as an address's own, and one
// email from the site's. A reader's token can thus send neither address
// more than a signup could.
func (s *Service) takeAddressLimits(ctx context.Context, old, addr string, now time.Time) error {
	if s.Limits == nil {
		return nil
	}
	// The notices to the old address count apart from its confirmation
	// emails: a reader who just confirmed may move at once.
	for _, key := range []string{confirmAddressKey(addr), "notice:" + confirmAddressKey(old)} {
		if s.Limits.Address == nil {
			break
		}
		wait, _, err := s.Limits.Address.Allow(ctx, key, now)
		if err != nil {
			return fmt.Errorf("subscribers: address change: %w", err)
		} else if wait > 0 {
			return &LimitedError{Wait: wait}
		}
	}
	if s.Limits.Site == nil {
		return nil
	}
	wait, err := s.Limits.Site.Allow(ctx, keyConfirmSite, now)
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
	pending      string // field ne's value for it
}

// PendingAddressChange returns the change an address token confirms while
// it is still the subscriber's latest request and younger than ConfirmTTL.
func (s *Service) PendingAddressChange(ctx context.Context, token string) (*AddressChange, error) {
	id, addr, issued, ok := s.Sealer.parseAddressToken(token)
	if !ok || s.Now().After(issued.Add(s.ConfirmTTL)) {
		return nil, errInvalidAddressToken
	}
	return s.pendingChange(ctx, id, addr, issued)
}

// pendingChange returns subscriber id's change to addr asked at issued
// while it is the pending one.
func (s *Service) pendingChange(ctx context.Context, id int64, addr string, issued time.Time) (*AddressChange, error) {
	vals, err := s.Store.rdb.HMGet(ctx, keySubscriber(id), fieldEmail, fieldNewEmail).Result()
	if err != nil {
		return nil, fmt.Errorf("subscribers: address change: %w", err)
	}
	pending := pendingValue(addr, issued)
	if str(vals[0]) == "" || str(vals[1]) != pending {
		return nil, errInvalidAddressToken
	}
	return &AddressChange{SubscriberID: id, OldEmail: str(vals[0]), NewEmail: addr, pending: pending}, nil
}

// ConfirmAddressChange moves the subscriber of an address token to its new
// address and returns the subscriber id there. The link used again once
// the move is done (a second click) answers the same id.
func (s *Service) ConfirmAddressChange(ctx context.Context, token string, meta RequestMeta) (int64, error) {
	ch, err := s.PendingAddressChange(ctx, token)
	if err != nil {
		if id, ok := s.movedBy(ctx, token); ok {
			return id, nil
		}
		return 0, err
	}
	claimed, err := claimChangeScript.Run(ctx, s.Store.rdb, []string{keySubscriber(ch.SubscriberID)}, ch.pending).Int()
	if err != nil {
		return 0, fmt.Errorf("subscribers: address change: %w", err)
	} else if claimed == 0 {
		return 0, errInvalidAddressToken // another click took it
	}
	old, err := s.Store.Subscriber(ctx, ch.SubscriberID)
	if err != nil {
		return 0, fmt.Errorf("subscribers: address change: %w", err)
	} else if old == nil {
		return 0, errInvalidAddressToken
	}
	newID, err := s.Store.idFor(ctx, ch.NewEmail)
	if err != nil {
		return 0, fmt.Errorf("subscribers: address change: %w", err)
	}
	if err := s.adopt(ctx, newID, old, ch.NewEmail, meta); err != nil {
		return 0, fmt.Errorf("subscribers: address change: %w", err)
	}
	if err := s.Store.eraseMoved(ctx, old.ID, old.Email, newID); err != nil {
		return 0, fmt.Errorf("subscribers: address change: %w", err)
	}
	for _, p := range []newsletter.Partition{newsletter.PartitionOf(newID), newsletter.PartitionOf(old.ID)} {
		if err := s.Store.durable(ctx, p); err != nil {
			return 0, err
		}
	}
	return newID, nil
}

// movedBy reports the id that the subscriber of an address token moved to
// by it, when the move is done: the old id leads to a subscriber whose
// address is the token's.
func (s *Service) movedBy(ctx context.Context, token string) (int64, bool) {
	id, addr, issued, ok := s.Sealer.parseAddressToken(token)
	if !ok || s.Now().After(issued.Add(s.ConfirmTTL)) {
		return 0, false
	}
	to, err := s.Store.current(ctx, id)
	if err != nil || to == 0 || to == id {
		return 0, false
	}
	email, err := s.Store.rdb.HGet(ctx, keySubscriber(to), fieldEmail).Result()
	return to, err == nil && email == addr
}

// eraseMoved erases subscriber id as erase does and, in the same
// transaction, leaves the pointer to its new id.
func (s *Store) eraseMoved(ctx context.Context, id int64, addr string, to int64) error {
	fields, err := s.rdb.HKeys(ctx, keySubscriber(id)).Result()
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		queueErase(ctx, p, id, addr, fields)
		p.Set(ctx, keyMoved(id), to, movedFor)
		return nil
	})
	return err
}

// current returns the id that subscriber id's links lead to: id itself, or
// where it moved (following a few moves), or 0 when it is gone.
func (s *Store) current(ctx context.Context, id int64) (int64, error) {
	for range 4 {
		exists, err := s.exists(ctx, id)
		if err != nil || exists {
			return id, err
		}
		to, err := s.rdb.Get(ctx, keyMoved(id)).Int64()
		if errors.Is(err, redis.Nil) {
			return 0, nil
		} else if err != nil {
			return 0, err
		}
		id = to
	}
	return 0, nil
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
	return s.changeToken(addressTokenPurpose, id, addr, issued)
}

// cancelToken is addressToken's counterpart for the notice's link.
func (s *Sealer) cancelToken(id int64, addr string, issued time.Time) string {
	return s.changeToken(cancelTokenPurpose, id, addr, issued)
}

func (s *Sealer) changeToken(purpose string, id int64, addr string, issued time.Time) string {
	b := make([]byte, 0, len(purpose)+12+len(addr))
	b = append(b, purpose...)
	b = binary.BigEndian.AppendUint64(b, uint64(id))
	b = binary.BigEndian.AppendUint32(b, uint32(issued.Unix()))
	return s.Seal(string(append(b, addr...)))
}

// parseAddressToken opens what addressToken sealed.
func (s *Sealer) parseAddressToken(token string) (id int64, addr string, issued time.Time, ok bool) {
	return s.parseChangeToken(addressTokenPurpose, token)
}

// parseChangeToken opens what changeToken sealed for purpose.
func (s *Sealer) parseChangeToken(purpose, token string) (id int64, addr string, issued time.Time, ok bool) {
	if len(token) > maxConfirmToken {
		return 0, "", time.Time{}, false
	}
	plain, err := s.Open(token)
	rest, found := strings.CutPrefix(plain, purpose)
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

// CancelAddressChange cancels the pending change of address that the
// notice's link names, and returns the change; a change confirmed or
// replaced since, or a link older than ConfirmTTL, is invalid_token.
func (s *Service) CancelAddressChange(ctx context.Context, token string) (*AddressChange, error) {
	ch, err := s.CancellableChange(ctx, token)
	if err != nil {
		return nil, err
	}
	claimed, err := claimChangeScript.Run(ctx, s.Store.rdb, []string{keySubscriber(ch.SubscriberID)}, ch.pending).Int()
	if err != nil {
		return nil, fmt.Errorf("subscribers: address change: %w", err)
	} else if claimed == 0 {
		return nil, errInvalidAddressToken
	}
	return ch, nil
}

// CancellableChange returns the pending change of address that the
// notice's link names, changing nothing, as PendingAddressChange does for
// the confirming link.
func (s *Service) CancellableChange(ctx context.Context, token string) (*AddressChange, error) {
	id, addr, issued, ok := s.Sealer.parseChangeToken(cancelTokenPurpose, token)
	if !ok || s.Now().After(issued.Add(s.ConfirmTTL)) {
		return nil, errInvalidAddressToken
	}
	return s.pendingChange(ctx, id, addr, issued)
}
