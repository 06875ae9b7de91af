package subscribers

import (
	"context"
	"fmt"
	"slices"
	"time"

	"newsletter"
)

// SourcePreferences is the source of the consent records a reader's own
// choices on the preference page leave.
const SourcePreferences = "preferences page"

// PreferencesSubscriber returns the subscriber a preferences token was made
// for, or the one it moved to. A token whose subscriber was erased is
// invalid_token, as a forged one is.
func (s *Service) PreferencesSubscriber(ctx context.Context, token string) (*Subscriber, error) {
	id, err := s.Signer.ParsePreferencesToken(token)
	if err != nil {
		return nil, err
	}
	if id, err = s.Store.current(ctx, id); err != nil {
		return nil, fmt.Errorf("subscribers: preferences: %w", err)
	} else if id == 0 {
		return nil, errInvalidPreferences
	}
	sub, err := s.Store.Subscriber(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("subscribers: preferences: %w", err)
	} else if sub == nil {
		return nil, errInvalidPreferences
	}
	return sub, nil
}

// PreferencesChange is what a reader sent from the preference page.
type PreferencesChange struct {
	// Offered are the newsletters the page offers: only these change.
	Offered []string
	// Wanted are those of Offered the reader checked: each is confirmed at
	// once (the link in the reader's mail proves the address); each other
	// one of Offered the reader is confirmed for is ended. A pending
	// subscription (its confirmation email unanswered) the page shows
	// unchecked, and leaves pending unless checked: a save for another
	// reason confirms nothing the reader did not choose.
	Wanted []string
	// All ends every subscription of Offered, pending ones too
	// ("Unsubscribe from all"); Wanted is ignored then.
	All bool
	// Name is the name the reader gave; nil leaves the name as it is.
	Name *string
	Meta RequestMeta
}

// PreferencesResult says what a save changed.
type PreferencesResult struct {
	Added, Removed []string
	Subscriber     *Subscriber // as it stands afterwards
}

// SavePreferences applies a reader's choices from the preference page of
// token: the newsletters added are confirmed without a second email and
// welcomed, those unchecked are unsubscribed, and each change leaves a
// consent record whose source is the preference page.
func (s *Service) SavePreferences(ctx context.Context, token string, ch PreferencesChange) (*PreferencesResult, error) {
	sub, err := s.PreferencesSubscriber(ctx, token)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	ch.Meta.Source = SourcePreferences
	added, removed := preferencesDiff(sub, ch)
	if err := s.addFromPreferences(ctx, sub.ID, added, ch.Meta, now); err != nil {
		return nil, fmt.Errorf("subscribers: preferences: %w", err)
	}
	if err := s.removeFromPreferences(ctx, sub.ID, removed, ch.Meta, now); err != nil {
		return nil, fmt.Errorf("subscribers: preferences: %w", err)
	}
	if ch.Name != nil && cleanName(*ch.Name) != sub.Name {
		if err := s.Store.SetName(ctx, sub.ID, cleanName(*ch.Name)); err != nil {
			return nil, fmt.Errorf("subscribers: preferences: %w", err)
		}
	}
	if err := s.Store.durable(ctx, newsletter.PartitionOf(sub.ID)); err != nil {
		return nil, err
	}
	if err := s.welcome(ctx, sub.ID, added); err != nil {
		return nil, fmt.Errorf("subscribers: preferences: welcome: %w", err)
	}
	after, err := s.Store.Subscriber(ctx, sub.ID)
	if err != nil {
		return nil, fmt.Errorf("subscribers: preferences: %w", err)
	}
	return &PreferencesResult{Added: added, Removed: removed, Subscriber: after}, nil
}

// preferencesDiff returns the newsletters of ch.Offered to add (wanted,
// not confirmed) and to end (confirmed and not wanted; with ch.All, every
// pending or confirmed one).
func preferencesDiff(sub *Subscriber, ch PreferencesChange) (added, removed []string) {
	for _, nl := range dedupe(ch.Offered) {
		st := sub.StatusOf(nl)
		wanted := !ch.All && slices.Contains(ch.Wanted, nl)
		switch {
		case wanted && st != newsletter.StatusConfirmed:
			added = append(added, nl)
		case ch.All && st == newsletter.StatusPending, !wanted && st == newsletter.StatusConfirmed:
			removed = append(removed, nl)
		}
	}
	return added, removed
}

// addFromPreferences confirms subscriber id for each of nls at once and
// records it as a signup and a confirmation from the preference page.
func (s *Service) addFromPreferences(ctx context.Context, id int64, nls []string, meta RequestMeta, now time.Time) error {
	if len(nls) == 0 {
		return nil
	}
	for _, nl := range nls {
		if _, err := s.Store.transition(ctx, id, nl, transSubscribe, now); err != nil {
			return err
		}
		if _, err := s.Store.transition(ctx, id, nl, transConfirm, now); err != nil {
			return err
		}
	}
	for _, action := range []string{ActionSignup, ActionConfirm} {
		c := Consent{Action: action, Newsletters: nls, At: now, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source, Wording: s.ConsentWording}
		if err := s.Store.AddConsent(ctx, id, c); err != nil {
			return err
		}
	}
	return nil
}

// removeFromPreferences unsubscribes subscriber id from each of nls and
// records it.
func (s *Service) removeFromPreferences(ctx context.Context, id int64, nls []string, meta RequestMeta, now time.Time) error {
	if len(nls) == 0 {
		return nil
	}
	for _, nl := range nls {
		if _, err := s.Store.transition(ctx, id, nl, transUnsubscribe, now); err != nil {
			return err
		}
	}
	c := Consent{Action: ActionUnsubscribe, Newsletters: nls, At: now, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source, Wording: s.ConsentWording}
	return s.Store.AddConsent(ctx, id, c)
}

// ExportByPreferences is ExportAddress for the reader of a preferences
// token: "download my data" on the preference page.
func (s *Service) ExportByPreferences(ctx context.Context, token string) (*DataExport, error) {
	sub, err := s.PreferencesSubscriber(ctx, token)
	if err != nil {
		return nil, err
	}
	return s.ExportAddress(ctx, sub.Email)
}

// EraseByPreferences is Erase for the reader of a preferences token:
// "delete everything" on the preference page. The token is invalid
// afterwards.
func (s *Service) EraseByPreferences(ctx context.Context, token string) error {
	sub, err := s.PreferencesSubscriber(ctx, token)
	if err != nil {
		return err
	}
	return s.Erase(ctx, sub.Email)
}
