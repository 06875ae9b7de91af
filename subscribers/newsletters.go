package subscribers

import (
	"context"

	"newsletter"
)

// The service keeps newsletters for the api (newsletter.NewsletterService);
// they live in the readers' store because every signup checks them.
var _ newsletter.NewsletterService = (*Service)(nil)

// Newsletter returns the newsletter with the given id, or nil when there is
// none.
func (s *Service) Newsletter(ctx context.Context, id string) (*newsletter.Newsletter, error) {
	return s.Store.Newsletter(ctx, id)
}

// Newsletters returns every newsletter, ordered by id.
func (s *Service) Newsletters(ctx context.Context) ([]*newsletter.Newsletter, error) {
	return s.Store.Newsletters(ctx)
}

// PutNewsletter creates or replaces newsletter n and reports whether it was
// created; CreatedAt is kept from the stored newsletter on update.
func (s *Service) PutNewsletter(ctx context.Context, n *newsletter.Newsletter) (bool, error) {
	return s.Store.PutNewsletter(ctx, n)
}

// Counts returns how many readers newsletter id has in each status.
func (s *Service) Counts(ctx context.Context, id string) (newsletter.Counts, error) {
	return s.Store.Counts(ctx, id)
}

// Ping reports whether the store answers.
func (s *Service) Ping(ctx context.Context) error { return s.Store.Ping(ctx) }
