package articles

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// Store keeps articles in Redis, filed under each of their newsletters by
// publication time. The key layout is in keys.go.
type Store struct {
	rdb redis.UniversalClient
	// indexed is set once IndexExisting has found or made the index of
	// every article, so that it costs nothing after.
	indexed atomic.Bool
}

// NewStore returns a Store on the given Redis client.
func NewStore(rdb redis.UniversalClient) *Store {
	return &Store{rdb: rdb}
}

// Get returns the article with the given URL, or nil when there is none.
func (s *Store) Get(ctx context.Context, url string) (*Article, error) {
	url = strings.TrimSpace(url)
	a, err := s.ByID(ctx, urlHash(url))
	if err != nil || a == nil || a.URL != url { // a hash collision: not the article asked for
		return nil, err
	}
	return a, nil
}

// ByID returns the article with the given id (IDOf its URL), or nil when
// there is none or id is not an article id.
func (s *Store) ByID(ctx context.Context, id string) (*Article, error) {
	if !ValidID(id) {
		return nil, nil
	}
	raw, err := s.rdb.Get(ctx, keyArticle(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, nil
	} else if err != nil {
		return nil, fmt.Errorf("articles: get: %w", err)
	}
	a, err := decodeArticle(raw)
	if err != nil {
		return nil, fmt.Errorf("articles: get %s: %w", id, err)
	}
	return a, nil
}

// Select returns the newest articles of newsletter nl published after
// after and not after until, at most limit of them (none when limit is
// not positive), in editorial order (EditorialOrder): newest first unless
// some are lead or have a position. Times count to the millisecond.
func (s *Store) Select(ctx context.Context, nl string, after, until time.Time, limit int) ([]Article, error) {
	list := []Article{}
	if limit <= 0 || !until.After(after) {
		return list, nil
	}
	hashes, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{
		Key: keyNewsletterArticles(nl), ByScore: true, Rev: true,
		Start: millis(until), Stop: "(" + strconv.FormatInt(millis(after), 10), Count: int64(limit),
	}).Result()
	if err != nil || len(hashes) == 0 {
		return list, wrap("select", err)
	}
	keys := make([]string, len(hashes))
	for i, h := range hashes {
		keys[i] = keyArticle(h)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, wrap("select", err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // gone meanwhile
		}
		a, err := decodeArticle([]byte(str))
		if err != nil {
			return nil, fmt.Errorf("articles: select: article %s: %w", hashes[i], err)
		}
		list = append(list, *a)
	}
	EditorialOrder(list)
	return list, nil
}

// millis returns t in Unix milliseconds, rounded down: an article's
// sorted-set score, and the bounds that Select compares scores with.
func millis(t time.Time) int64 {
	ms := t.UnixMilli() // rounds toward zero
	if t.Before(time.UnixMilli(ms)) {
		ms--
	}
	return ms
}

func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("articles: %s: %w", op, err)
}
