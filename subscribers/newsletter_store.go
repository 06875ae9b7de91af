package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"newsletter"
	"sort"

	"github.com/redis/go-redis/v9"
)

// PutNewsletter creates or replaces newsletter n and reports whether it was
// created. CreatedAt is kept from the stored newsletter on update.
func (s *Store) PutNewsletter(ctx context.Context, n *newsletter.Newsletter) (created bool, err error) {
	old, err := s.Newsletter(ctx, n.ID)
	if err != nil {
		return false, err
	}
	if old != nil {
		n.CreatedAt = old.CreatedAt
	}
	raw, err := json.Marshal(n)
	if err != nil {
		return false, err
	}
	return old == nil, s.rdb.HSet(ctx, keyNewsletters, n.ID, raw).Err()
}

// Newsletter returns the newsletter with the given id, or nil when there is
// none.
func (s *Store) Newsletter(ctx context.Context, id string) (*newsletter.Newsletter, error) {
	raw, err := s.rdb.HGet(ctx, keyNewsletters, id).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	return decodeNewsletter(raw)
}

// Newsletters returns every newsletter, ordered by id.
func (s *Store) Newsletters(ctx context.Context) ([]*newsletter.Newsletter, error) {
	all, err := s.rdb.HGetAll(ctx, keyNewsletters).Result()
	if err != nil {
		return nil, err
	}
	list := make([]*newsletter.Newsletter, 0, len(all))
	for _, raw := range all {
		n, err := decodeNewsletter([]byte(raw))
		if err != nil {
			return nil, err
		}
		list = append(list, n)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].ID < list[j].ID })
	return list, nil
}

// MissingNewsletters returns those of ids that name no newsletter. Those
// once found are remembered, since newsletters are never deleted.
func (s *Store) MissingNewsletters(ctx context.Context, ids []string) ([]string, error) {
	var unknown []string
	for _, id := range ids {
		if _, ok := s.newsletterSeen.Load(id); !ok {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) == 0 { // HMGET needs at least one field
		return nil, nil
	}
	vals, err := s.rdb.HMGet(ctx, keyNewsletters, unknown...).Result()
	if err != nil {
		return nil, err
	}
	var missing []string
	for i, v := range vals {
		if v == nil {
			missing = append(missing, unknown[i])
		} else {
			s.newsletterSeen.Store(unknown[i], true)
		}
	}
	return missing, nil
}

func decodeNewsletter(raw []byte) (*newsletter.Newsletter, error) {
	var n newsletter.Newsletter
	if err := json.Unmarshal(raw, &n); err != nil {
		return nil, fmt.Errorf("decode newsletter: %w", err)
	}
	return &n, nil
}
