package digests

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"newsletter"
	"newsletter/articles"
	"newsletter/i18n"
)

// Dispatcher starts sending a digest; the worker package implements it by
// queueing a task.
type Dispatcher interface {
	DispatchDigest(ctx context.Context, id string) error
}

// Service creates, reads and cancels digests.
type Service struct {
	Store            *Store
	Articles         *articles.Store
	Readers          Readers           // newsletters, audiences and contacts
	NormalizeAddress AddressNormalizer // the address rule for test recipients
	Dispatcher       Dispatcher
	Now              func() time.Time
}

// firstDigestWindow is how far back the first digest of a newsletter looks.
const firstDigestWindow = 24 * time.Hour

var errNotFound = newsletter.Errorf(newsletter.ENOTFOUND, "No digest has this id.")

var errNoArticles = newsletter.Errorf(newsletter.ENOARTICLES, "There are no new articles for this digest.")

// Create makes a digest of newsletter nl and starts sending it. With an
// idempotency key already used, it returns the first digest and created
// false, and sends nothing again.
func (s *Service) Create(ctx context.Context, nl string, req Request) (d *Digest, created bool, err error) {
	n, err := s.newsletter(ctx, nl)
	if err != nil {
		return nil, false, err
	}
	if err := req.normalize(s.NormalizeAddress); err != nil {
		return nil, false, err
	}
	if req.IdempotencyKey != "" { // a retry gets the first digest, though its send_at has passed since
		if prev, err := s.Store.idempotent(ctx, nl, req.IdempotencyKey); err != nil || prev != "" {
			return s.existing(ctx, prev, err)
		}
	}
	if err := req.checkSendAt(s.Now()); err != nil {
		return nil, false, err
	}
	d, err = s.draft(ctx, n, req)
	if newsletter.ErrorCode(err) == newsletter.ENOARTICLES && req.IdempotencyKey != "" {
		// A request with the same key may have taken the articles meanwhile.
		if prev, err := s.Store.idempotent(ctx, nl, req.IdempotencyKey); err != nil || prev != "" {
			return s.existing(ctx, prev, err)
		}
	}
	if err != nil {
		return nil, false, err
	}
	if req.IdempotencyKey != "" {
		if prev, err := s.Store.claimIdempotencyKey(ctx, nl, req.IdempotencyKey, d.ID); err != nil || prev != "" {
			return s.existing(ctx, prev, err)
		}
	}
	if err := s.start(ctx, d); err != nil {
		if req.IdempotencyKey != "" {
			s.Store.releaseIdempotencyKey(ctx, nl, req.IdempotencyKey)
		}
		return nil, false, fmt.Errorf("digests: create: %w", err)
	}
	return d, true, nil
}

// draft chooses the articles of the next digest of n (those req names, or
// the default selection) and fills in defaults, storing nothing.
func (s *Service) draft(ctx context.Context, n *newsletter.Newsletter, req Request) (*Digest, error) {
	now := s.Now().UTC()
	since := req.Since
	if since.IsZero() {
		var err error
		if since, err = s.since(ctx, n.ID, now); err != nil {
			return nil, err
		}
	}
	list, err := s.selection(ctx, n, req, since, now)
	if err != nil {
		return nil, err
	}
	d := &Digest{ID: newID(), Newsletter: n.ID, Status: StatusQueued, Subject: req.Subject, Intro: req.Intro,
		Articles: list, Since: since, Cutoff: now, TestRecipients: req.TestRecipients, CreatedAt: now}
	if !req.SendAt.IsZero() {
		at := req.SendAt.UTC()
		d.SendAt = &at
	}
	if d.Subject == "" {
		d.Subject = n.Name + " — " + i18n.Of(n.Lang()).LongDate(d.Date().In(location(n)))
	}
	return d, nil
}

// selection returns the articles req names, in its order, or else the
// newest of n published after since, at most max_articles; either way with
// req's lead first.
func (s *Service) selection(ctx context.Context, n *newsletter.Newsletter, req Request, since, now time.Time) ([]articles.Article, error) {
	var list []articles.Article
	var err error
	if len(req.Articles) > 0 {
		list, err = s.curated(ctx, req.Articles)
	} else {
		limit := cmp.Or(req.MaxArticles, n.MaxArticles)
		if list, err = s.Articles.Select(ctx, n.ID, since, now, limit); err != nil {
			err = fmt.Errorf("digests: select articles: %w", err)
		}
	}
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, errNoArticles
	}
	return list, markLead(list, req.Lead, len(req.Articles) > 0)
}

// start stores d, freezing its audience unless it is scheduled (its
// audience is frozen when it starts), and hands it to the dispatcher.
func (s *Service) start(ctx context.Context, d *Digest) error {
	total, prevCutoff, err := s.Store.create(ctx, d, s.confirmedKey(d.Newsletter))
	if err != nil {
		return err
	}
	d.Counts.Total = total
	if err := s.dispatch(ctx, d); err != nil {
		return errors.Join(err, s.abandon(context.WithoutCancel(ctx), d, prevCutoff))
	}
	return nil
}

// abandon marks digest d, which could not be dispatched, failed, so that
// it is never sent, and gives its articles back to the next digest.
func (s *Service) abandon(ctx context.Context, d *Digest, prevCutoff string) error {
	prev, err := s.Store.transition(ctx, d.ID, StatusFailed, s.Now(), StatusQueued)
	if err != nil || prev != StatusQueued || d.IsTest() {
		return err
	}
	return s.Store.restoreCutoff(ctx, d, prevCutoff)
}

// existing returns the digest a used idempotency key names.
func (s *Service) existing(ctx context.Context, id string, err error) (*Digest, bool, error) {
	if err != nil {
		return nil, false, fmt.Errorf("digests: idempotency: %w", err)
	}
	for range 50 { // the first request may still be storing it
		d, err := s.Store.Get(ctx, id)
		if d != nil || err != nil {
			return d, false, err
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil, false, newsletter.Errorf(newsletter.ECONFLICT, "A digest with this Idempotency-Key is still being created; try again.")
}

// Get returns digest id.
func (s *Service) Get(ctx context.Context, id string) (*Digest, error) {
	if !ValidID(id) {
		return nil, errNotFound
	}
	d, err := s.Store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("digests: get: %w", err)
	} else if d == nil {
		return nil, errNotFound
	}
	return d, nil
}

// Cancel stops sending what digest id has not sent yet, and returns it. A
// digest canceled before it started (a scheduled one, say) gives its
// articles back to the next digest, unless a later digest took the
// cutoff further since.
func (s *Service) Cancel(ctx context.Context, id string) (*Digest, error) {
	if !ValidID(id) {
		return nil, errNotFound
	}
	prev, err := s.Store.transition(ctx, id, StatusCanceled, s.Now(), StatusQueued, StatusSending)
	if err != nil {
		return nil, fmt.Errorf("digests: cancel: %w", err)
	}
	d, err := s.Get(ctx, id)
	if err != nil || prev != StatusQueued || d.IsTest() {
		return d, err
	}
	if err := s.Store.giveBack(ctx, d); err != nil {
		return nil, fmt.Errorf("digests: cancel: %w", err)
	}
	return d, nil
}

// Preview returns the next digest of newsletter nl as it would be created
// now, without storing or sending anything.
func (s *Service) Preview(ctx context.Context, nl string) (*Digest, *newsletter.Newsletter, error) {
	n, err := s.newsletter(ctx, nl)
	if err != nil {
		return nil, nil, err
	}
	d, err := s.draft(ctx, n, Request{})
	return d, n, err
}

func (s *Service) newsletter(ctx context.Context, id string) (*newsletter.Newsletter, error) {
	n, err := s.Readers.Newsletter(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("digests: load newsletter: %w", err)
	} else if n == nil {
		return nil, newsletter.Errorf(newsletter.ENOTFOUND, "No newsletter has this id.")
	}
	return n, nil
}

// idBytes is how many random bytes a digest id holds, in lower-case hex.
const idBytes = 12

func newID() string {
	b := make([]byte, idBytes)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// ValidID reports whether id has the form of a digest id (24 lower-case
// hex digits): an id from a URL is checked before it names a key, so that
// "abc:body" never reads another key.
func ValidID(id string) bool {
	if len(id) != 2*idBytes {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// location returns the newsletter's time zone, UTC when it has none.
func location(n *newsletter.Newsletter) *time.Location {
	if loc, err := time.LoadLocation(n.Timezone); err == nil && n.Timezone != "" {
		return loc
	}
	return time.UTC
}

// Unfinished returns newsletter nl's digests that are queued or sending,
// among its latest ten.
func (s *Service) Unfinished(ctx context.Context, nl string) ([]*Digest, error) {
	return s.Store.Unfinished(ctx, nl)
}

// Archive returns newsletter nl's digests that went out to its readers
// (sending or sent; test sends never), newest first, skipping the first
// offset of them and returning at most limit, and whether more follow.
func (s *Service) Archive(ctx context.Context, nl string, offset, limit int) ([]*Digest, bool, error) {
	const chunk = 50
	var out []*Digest
	seen := 0
	for start := int64(0); ; start += chunk {
		ids, err := s.Store.rdb.ZRevRange(ctx, keyDigests(nl), start, start+chunk-1).Result()
		if err != nil {
			return nil, false, fmt.Errorf("digests: archive: %w", err)
		}
		for _, id := range ids {
			d, err := s.Store.Get(ctx, id)
			if err != nil {
				return nil, false, fmt.Errorf("digests: archive: %w", err)
			}
			if d == nil || d.IsTest() || (d.Status != StatusSending && d.Status != StatusSent) {
				continue
			}
			if seen++; seen <= offset {
				continue
			}
			if len(out) == limit {
				return out, true, nil
			}
			out = append(out, d)
		}
		if len(ids) < chunk {
			return out, false, nil
		}
	}
}

// Body returns the stored body of digest id (its web view), or nil if it was
// not rendered yet.
func (s *Service) Body(ctx context.Context, id string) (*Body, error) {
	if !ValidID(id) {
		return nil, nil
	}
	return s.Store.Body(ctx, id)
}
