package subscribers

import (
	"context"
	"strings"

	"github.com/redis/go-redis/v9"
)

// erase removes subscriber id and every key that mentions it: its hash,
// consent history, confirmation tokens, audience entries and index entry.
func (s *Store) erase(ctx context.Context, id int64, addr string) error {
	fields, err := s.rdb.HKeys(ctx, keySubscriber(id)).Result()
	if err != nil {
		return err
	}
	tokens, err := s.rdb.SMembers(ctx, keyTokens(id)).Result()
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, f := range fields {
			if nl, ok := strings.CutPrefix(f, "sub:"); ok {
				for _, st := range Statuses {
					p.ZRem(ctx, KeyAudience(nl, st), id)
				}
			}
		}
		for _, h := range tokens {
			p.Del(ctx, keyConfirmToken(h))
		}
		p.Del(ctx, keySubscriber(id), keyConsent(id), keyTokens(id))
		p.HDel(ctx, keySubscriberIndex, AddressKey(addr))
		return nil
	})
	return err
}
