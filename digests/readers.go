package digests

import (
	"context"

	"newsletter"
)

// Readers is what digests need of the readers' side: newsletters, the
// audience a digest freezes, and the contact of each recipient. The
// subscribers store implements it; cmd wires the two together.
type Readers interface {
	newsletter.NewsletterReader
	// AudienceKey names the Redis key of newsletter nl's audience in status
	// st in partition p, which a new digest copies as it stands.
	AudienceKey(nl string, st newsletter.Status, p newsletter.Partition) string
	// Contacts loads the address, name and status for newsletter nl of
	// each of ids, in that order.
	Contacts(ctx context.Context, nl string, ids []int64) ([]newsletter.Contact, error)
}

// Unsubscriber signs the tokens of a digest's personal links: the
// one-click unsubscribe link and the link to the reader's preference page;
// the subscribers package's Signer implements it.
type Unsubscriber interface {
	UnsubscribeToken(subscriberID int64, nl string) string
	PreferencesToken(subscriberID int64) string
}

// AddressNormalizer checks a test recipient's address and returns it in
// the form the service keeps, or a coded error; subscribers.NormalizeAddress
// is the one rule.
type AddressNormalizer func(addr string) (string, error)
