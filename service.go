package newsletter

import "context"

// NewsletterReader finds newsletters; the subscribers store implements it.
type NewsletterReader interface {
	// Newsletter returns the newsletter with the given id, or nil when
	// there is none.
	Newsletter(ctx context.Context, id string) (*Newsletter, error)
	// Newsletters returns every newsletter, ordered by id.
	Newsletters(ctx context.Context) ([]*Newsletter, error)
}

// NewsletterService keeps newsletters and tells how many readers each has;
// the subscribers service implements it for the api.
type NewsletterService interface {
	NewsletterReader
	// PutNewsletter creates or replaces n and reports whether it was
	// created.
	PutNewsletter(ctx context.Context, n *Newsletter) (created bool, err error)
	// Counts returns how many readers newsletter id has in each status.
	Counts(ctx context.Context, id string) (Counts, error)
}
