package subscribers

import (
	"context"
	"fmt"

	"newsletter"
)

// Confirmation is where the address a confirmation token was sent to stands
// with each newsletter of the token: what a page about the token must tell,
// since the reader may have unsubscribed (or signed up again) after the
// email came.
type Confirmation struct {
	SubscriberID int64
	Email        string // the address the token was sent to
	// Used reports that the token confirms nothing (more): what it was
	// made for was confirmed, ended, or belongs to a later signup now.
	Used bool
	// Subscriptions holds the address's subscription to each newsletter of
	// the token, in the token's order; Status is "" where there is none.
	Subscriptions []Subscription
}

// Confirmable reports whether posting the token would confirm a
// subscription.
func (c *Confirmation) Confirmable() bool {
	return !c.Used && len(c.Newsletters(newsletter.StatusPending)) > 0
}

// Newsletters returns the newsletters of the token whose subscription is in
// status st ("" for those with none).
func (c *Confirmation) Newsletters(st newsletter.Status) []string {
	var nls []string
	for _, sub := range c.Subscriptions {
		if sub.Status == st {
			nls = append(nls, sub.Newsletter)
		}
	}
	return nls
}

// Confirmation returns where the address of a confirmation token stands with
// the token's newsletters, and changes nothing: it is for the page that the
// link in the email opens. A token that is not live fails as in Confirm.
func (s *Service) Confirmation(ctx context.Context, token string) (*Confirmation, error) {
	claim, err := s.liveToken(ctx, token)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirmation: %w", err)
	}
	c, err := s.standing(ctx, claim)
	if err != nil {
		return nil, fmt.Errorf("subscribers: confirmation: %w", err)
	}
	return c, nil
}

// standing loads where the subscriber of a token stands with the token's
// newsletters. A subscriber erased since makes the token invalid.
func (s *Service) standing(ctx context.Context, claim tokenClaim) (*Confirmation, error) {
	email, subs, err := s.Store.subscriptionsOf(ctx, claim.SubscriberID, claim.Newsletters)
	if err != nil {
		return nil, err
	}
	if email == "" {
		return nil, errInvalidToken
	}
	used := true
	for _, sub := range subs {
		if sub.Status == newsletter.StatusPending && sub.begin <= claim.seq {
			used = false
		}
	}
	return &Confirmation{SubscriberID: claim.SubscriberID, Email: email, Used: used, Subscriptions: subs}, nil
}

// subscriptionsOf returns the address of subscriber id and its subscription
// to each of nls, in order, in one round trip; a subscription that does not
// exist has Status "", and an address that does not exist is "".
func (s *Store) subscriptionsOf(ctx context.Context, id int64, nls []string) (string, []Subscription, error) {
	fields := make([]string, 0, len(nls)+1)
	fields = append(fields, fieldEmail)
	for _, nl := range nls {
		fields = append(fields, fieldSubscription(nl))
	}
	vals, err := s.rdb.HMGet(ctx, keySubscriber(id), fields...).Result()
	if err != nil {
		return "", nil, err
	}
	subs := make([]Subscription, len(nls))
	for i, nl := range nls {
		subs[i] = Subscription{Newsletter: nl}
		if v := str(vals[i+1]); v != "" {
			subs[i] = decodeSubscription(nl, v)
		}
	}
	return str(vals[0]), subs, nil
}
