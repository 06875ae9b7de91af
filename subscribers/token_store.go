package subscribers

import (
	"context"
	"newsletter"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// tokenGrace is how long a token's record outlives its expiry, so that a
// late click is told "expired" rather than "invalid".
const tokenGrace = 30 * 24 * time.Hour

// tokenRecord is what is stored under a confirmation token's hash.
type tokenRecord struct {
	SubscriberID int64
	Newsletters  []string
	Name         string    // the name given at signup, applied on confirmation
	ExpiresAt    time.Time // after this the token is refused as expired
	UsedAt       time.Time // zero until the token confirmed
}

// loadToken returns the record stored under hashHex in partition p, or nil
// if none is.
func (s *Store) loadToken(ctx context.Context, p newsletter.Partition, hashHex string) (*tokenRecord, error) {
	h, err := s.rdb.HGetAll(ctx, keyConfirmToken(p, hashHex)).Result()
	if err != nil || len(h) == 0 {
		return nil, err
	}
	sid, _ := strconv.ParseInt(h["sid"], 10, 64)
	rec := &tokenRecord{SubscriberID: sid, Name: h["name"],
		ExpiresAt: unixTime(h["exp"]), UsedAt: unixTime(h["used"])}
	if h["nls"] != "" {
		rec.Newsletters = strings.Split(h["nls"], ",")
	}
	return rec, nil
}

// markTokenUsed records that the token under hashHex in partition p
// confirmed, and reports whether this call was the first to do so.
func (s *Store) markTokenUsed(ctx context.Context, p newsletter.Partition, hashHex string, now time.Time) (bool, error) {
	return s.rdb.HSetNX(ctx, keyConfirmToken(p, hashHex), "used", now.Unix()).Result()
}

// deleteTokens removes every confirmation token of subscriber id, so that
// none confirms anything any more.
func (s *Store) deleteTokens(ctx context.Context, id int64) error {
	hashes, err := s.rdb.SMembers(ctx, keyTokens(id)).Result()
	if err != nil || len(hashes) == 0 {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		for _, h := range hashes {
			p.Del(ctx, keyConfirmToken(newsletter.PartitionOf(id), h))
		}
		p.SRem(ctx, keyTokens(id), toAny(hashes)...)
		return nil
	})
	return err
}

func toAny(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}

// liveTokenNewsletters returns, for each of ids that has any, the
// newsletters that one of its confirmation tokens still unexpired at now
// was made for, in two round trips.
func (s *Store) liveTokenNewsletters(ctx context.Context, ids []int64, now time.Time) (map[int64]map[string]bool, error) {
	sets := make([]*redis.StringSliceCmd, len(ids))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			sets[i] = p.SMembers(ctx, keyTokens(id))
		}
		return nil
	})
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	var owners []int64
	var records []*redis.SliceCmd
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			for _, h := range sets[i].Val() {
				owners = append(owners, id)
				records = append(records, p.HMGet(ctx, keyConfirmToken(newsletter.PartitionOf(id), h), "exp", "nls"))
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	live := map[int64]map[string]bool{}
	for i, cmd := range records {
		v := cmd.Val()
		if exp := unixTime(str(v[0])); exp.IsZero() || now.After(exp) || str(v[1]) == "" {
			continue
		}
		if live[owners[i]] == nil {
			live[owners[i]] = map[string]bool{}
		}
		for _, nl := range strings.Split(str(v[1]), ",") {
			live[owners[i]][nl] = true
		}
	}
	return live, nil
}
