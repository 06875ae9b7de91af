package subscribers

import (
	"context"
	"newsletter"

	"github.com/redis/go-redis/v9"
)

// Contacts loads the address, name and status for newsletter nl of each of
// ids, in one round trip.
func (s *Store) Contacts(ctx context.Context, nl string, ids []int64) ([]newsletter.Contact, error) {
	cmds := make([]*redis.SliceCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HMGet(ctx, keySubscriber(id), fieldEmail, fieldName, fieldSubscription(nl))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := make([]newsletter.Contact, len(ids))
	for i, cmd := range cmds {
		v := cmd.Val()
		out[i] = newsletter.Contact{ID: ids[i], Email: str(v[0]), Name: str(v[1])}
		if sub := str(v[2]); sub != "" {
			out[i].Status = decodeSubscription(nl, sub).Status
		}
	}
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func (s *Store) exists(ctx context.Context, id int64) (bool, error) {
	n, err := s.rdb.Exists(ctx, keySubscriber(id)).Result()
	return n == 1, err
}
