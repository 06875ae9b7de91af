package subscribers

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"newsletter"
)

// Limits on what a signup may carry.
const (
	maxSignupNewsletters = 20
	maxSignupName        = 200
	maxSignupSource      = 2048
)

// SignupRequest is one reader's request to subscribe, as a form sends it.
type SignupRequest struct {
	Email       string
	Newsletters []string
	Name        string
	Honeypot    string // the hidden "website" field; bots fill it
	Meta        RequestMeta
}

// Subscribe records a pending subscription of req.Email to each named
// newsletter and asks the Notifier for a confirmation email, unless every
// named newsletter is already confirmed for that address, the address is
// suppressed, or a confirmation limit holds the email back. Its result is
// the same in every case, whether or not the address was known, so callers
// can answer alike.
func (s *Service) Subscribe(ctx context.Context, req SignupRequest) error {
	addr, err := NormalizeAddress(req.Email)
	if err != nil {
		return err
	}
	nls, err := s.resolveNewsletters(ctx, req.Newsletters)
	if err != nil {
		return err
	}
	if req.Honeypot != "" {
		return nil
	}
	if err := s.subscribe(ctx, addr, nls, cleanName(req.Name), req.Meta); err != nil {
		return fmt.Errorf("subscribers: subscribe: %w", err)
	}
	return nil
}

// subscribe records the signup and sends the confirmation email. The
// signup's consent record is kept when it changed a subscription or sent
// an email; a repeat that did neither (held back by a limit, or for
// newsletters already confirmed) leaves no trace, so that nobody can grow
// another reader's history at will.
func (s *Service) subscribe(ctx context.Context, addr string, nls []string, name string, meta RequestMeta) error {
	now := s.Now()
	id, err := s.Store.EnsureSubscriber(ctx, addr, now)
	if err != nil {
		return err
	}
	unconfirmed, changed, err := s.subscribeEach(ctx, id, nls, now)
	if err != nil {
		return err
	}
	send, err := s.mayConfirm(ctx, id, addr, unconfirmed, now)
	if err != nil {
		return err
	}
	if changed || send {
		meta.Source = truncate(meta.Source, maxSignupSource)
		consent := Consent{Action: ActionSignup, Newsletters: nls, At: now, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source}
		if err := s.Store.AddConsent(ctx, id, consent); err != nil {
			return err
		}
	}
	if !send {
		return nil
	}
	return s.sendConfirmation(ctx, id, addr, unconfirmed, name)
}

// subscribeEach makes subscriber id's subscription to each of nls pending
// unless it is already pending or confirmed. It returns the newsletters not
// yet confirmed, and whether any subscription changed.
func (s *Service) subscribeEach(ctx context.Context, id int64, nls []string, now time.Time) (unconfirmed []string, changed bool, err error) {
	for _, nl := range nls {
		prev, err := s.Store.transition(ctx, id, nl, transSubscribe, now)
		if err != nil {
			return nil, false, err
		}
		if prev != StatusConfirmed {
			unconfirmed = append(unconfirmed, nl)
		}
		changed = changed || prev == "" || prev == StatusUnsubscribed
	}
	return unconfirmed, changed, nil
}

// mayConfirm reports whether a confirmation email for the unconfirmed
// newsletters goes to addr: not when there are none, never to a suppressed
// address (answered as any other), and not past a confirmation limit. A
// signup held back keeps its pending subscriptions; an earlier email's
// link still confirms them, and PurgeUnconfirmed removes them in time.
func (s *Service) mayConfirm(ctx context.Context, id int64, addr string, unconfirmed []string, now time.Time) (bool, error) {
	if len(unconfirmed) == 0 {
		return false, nil
	}
	if suppressed, err := s.Store.isSuppressed(ctx, addr); err != nil || suppressed {
		return false, err
	}
	limit, err := s.Limits.allow(ctx, addr, now)
	if err != nil {
		return false, err
	}
	if limit != "" {
		s.Logger.Info("Confirmation email held back by a limit", "subscriber_id", id, "limit", limit)
		return false, nil
	}
	return true, nil
}

func (s *Service) sendConfirmation(ctx context.Context, id int64, addr string, nls []string, name string) error {
	token, hash := newConfirmToken(id)
	rec := tokenRecord{SubscriberID: id, Newsletters: nls, Name: name, ExpiresAt: s.Now().Add(s.ConfirmTTL)}
	if err := s.Store.saveToken(ctx, hash, rec); err != nil {
		return err
	}
	return s.Notifier.SendConfirmation(ctx, ConfirmationEmail{SubscriberID: id, Email: addr, Token: token, Newsletters: nls})
}

// resolveNewsletters checks that every id names a newsletter, dropping
// repeats. No id at all means the one newsletter, when there is just one.
func (s *Service) resolveNewsletters(ctx context.Context, ids []string) ([]string, error) {
	ids = dedupe(ids)
	if len(ids) == 0 {
		return s.onlyNewsletter(ctx)
	}
	if len(ids) > maxSignupNewsletters {
		return nil, errUnknownNewsletter
	}
	for _, id := range ids {
		if ValidateNewsletterID(id) != nil {
			return nil, errUnknownNewsletter
		}
	}
	missing, err := s.Store.MissingNewsletters(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("subscribers: subscribe: %w", err)
	} else if len(missing) > 0 {
		return nil, errUnknownNewsletter
	}
	return ids, nil
}

func (s *Service) onlyNewsletter(ctx context.Context) ([]string, error) {
	all, err := s.Store.Newsletters(ctx)
	if err != nil {
		return nil, fmt.Errorf("subscribers: subscribe: %w", err)
	}
	if len(all) != 1 {
		return nil, errUnknownNewsletter
	}
	return []string{all[0].ID}, nil
}

var errUnknownNewsletter = newsletter.FieldError(newsletter.EUNKNOWNNEWSLETTER, "newsletters",
	"Please choose a newsletter to subscribe to.")

func dedupe(ids []string) []string {
	seen := make(map[string]bool, len(ids))
	out := ids[:0:0]
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

// cleanName keeps a name to one line of printable text of bounded length.
func cleanName(name string) string {
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, name)
	return truncate(strings.Join(strings.Fields(name), " "), maxSignupName)
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
