package main

import (
	"context"
	"fmt"
	"newsletter"
	"strings"
)

// checkNewsletter returns nil when newsletter id exists, else an error of
// one line naming id and the newsletters there are.
func checkNewsletter(ctx context.Context, nr newsletter.NewsletterReader, id string) error {
	all, err := nr.Newsletters(ctx)
	if err != nil {
		return fmt.Errorf("read newsletters: %w", err)
	}
	ids := make([]string, 0, len(all))
	for _, n := range all {
		if n.ID == id {
			return nil
		}
		ids = append(ids, n.ID)
	}
	if len(ids) == 0 {
		return fmt.Errorf("no newsletter %q: there is none yet (create one with PUT /v1/newsletters/ID)", id)
	}
	return fmt.Errorf("no newsletter %q (there are: %s)", id, strings.Join(ids, ", "))
}
