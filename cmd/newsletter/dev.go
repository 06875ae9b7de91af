package main

import (
	"context"
	"newsletter"
	"time"

	"newsletter/subscribers"
)

// devDefaults fills in, for dev mode, the secrets that production must set.
func (m *Main) devDefaults() error {
	if !m.Config.DevMode() {
		return nil
	}
	if len(m.Config.Secrets) == 0 {
		m.Config.Secrets = []string{randomHex(32)}
		m.Logger.Warn("Dev mode: NEWSLETTER_SECRET is unset, using a random one for this process; links stop working at restart")
	}
	if len(m.Config.APITokens) == 0 {
		token := randomHex(16)
		m.Config.APITokens = []string{token}
		m.Logger.Warn("Dev mode: NEWSLETTER_API_TOKENS is unset, editor token for this process: " + token)
	}
	return nil
}

// seedDev creates a sample newsletter so the demo page has a form.
func (m *Main) seedDev(ctx context.Context, store *subscribers.Store) error {
	now := time.Now().UTC().Truncate(time.Second)
	n := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief",
		Description: "The day's most important stories, every morning.", CreatedAt: now, UpdatedAt: now}
	n.Normalize()
	_, err := store.PutNewsletter(ctx, n)
	return err
}
