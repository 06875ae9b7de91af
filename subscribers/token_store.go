package subscribers

import (
	"context"
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

// saveToken stores rec under hashHex and links it to its subscriber so
// that erasing the subscriber erases the token.
func (s *Store) saveToken(ctx context.Context, hashHex string, rec tokenRecord) error {
	key := keyConfirmToken(hashHex)
	expireAt := rec.ExpiresAt.Add(tokenGrace)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "sid", rec.SubscriberID, "nls", strings.Join(rec.Newsletters, ","),
			"name", rec.Name, "exp", rec.ExpiresAt.Unix())
		p.ExpireAt(ctx, key, expireAt)
		p.SAdd(ctx, keyTokens(rec.SubscriberID), hashHex)
		p.ExpireAt(ctx, keyTokens(rec.SubscriberID), expireAt)
		return nil
	})
	return err
}

// loadToken returns the record stored under hashHex, or nil if none is.
func (s *Store) loadToken(ctx context.Context, hashHex string) (*tokenRecord, error) {
	h, err := s.rdb.HGetAll(ctx, keyConfirmToken(hashHex)).Result()
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

// markTokenUsed records that the token under hashHex confirmed, and reports
// whether this call was the first to do so.
func (s *Store) markTokenUsed(ctx context.Context, hashHex string, now time.Time) (bool, error) {
	return s.rdb.HSetNX(ctx, keyConfirmToken(hashHex), "used", now.Unix()).Result()
}
