package articles

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/redis/go-redis/v9"
)

// maxTxAttempts bounds how often a write starts over because another
// writer changed one of its articles between its read and its write.
const maxTxAttempts = 10

// Upsert stores a batch of articles all or nothing. Every article is
// normalized and validated first, and the first error is returned with
// nothing stored. An article that names no newsletter goes to all of
// allNewsletters; one that names a newsletter outside allNewsletters is
// invalid. An article whose URL is stored already is updated, its
// newsletters replaced; any other is created. The writes happen in one
// MULTI/EXEC transaction. A URL repeated in the batch counts as created,
// then updated.
func (s *Store) Upsert(ctx context.Context, batch []Article, allNewsletters []string) (created, updated int, err error) {
	arts, err := prepare(batch, allNewsletters)
	if err != nil {
		return 0, 0, err
	}
	return s.write(ctx, arts, false)
}

// write stores arts, which are normalized and valid, in one transaction
// and counts those created and updated. With onlyNew it leaves alone the
// articles that are stored already.
func (s *Store) write(ctx context.Context, arts []Article, onlyNew bool) (created, updated int, err error) {
	keys := articleKeys(arts)
	if len(keys) == 0 {
		return 0, 0, nil
	}
	watched := keys
	if onlyNew {
		watched = append(keys[:len(keys):len(keys)], keyDeleted())
	}
	for range maxTxAttempts {
		err = s.rdb.Watch(ctx, func(tx *redis.Tx) error {
			prev, err := memberships(ctx, tx, keys)
			if err != nil {
				return err
			}
			if onlyNew {
				if err := markDeleted(ctx, tx, arts, prev); err != nil {
					return err
				}
			}
			_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
				created, updated, err = queueWrites(ctx, p, arts, prev, onlyNew)
				return err
			})
			return err
		}, watched...)
		if !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	if err != nil {
		return 0, 0, wrap("upsert", err)
	}
	return created, updated, nil
}

// articleKeys returns the distinct keys of arts.
func articleKeys(arts []Article) []string {
	seen := make(map[string]bool, len(arts))
	var keys []string
	for _, a := range arts {
		if k := keyArticle(urlHash(a.URL)); !seen[k] {
			seen[k] = true
			keys = append(keys, k)
		}
	}
	return keys
}

// memberships reads the stored articles under keys and returns, for each
// one that exists, the newsletters it is filed under.
func memberships(ctx context.Context, tx *redis.Tx, keys []string) (map[string][]string, error) {
	vals, err := tx.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, err
	}
	prev := make(map[string][]string, len(keys))
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue
		}
		a, err := decodeArticle([]byte(str))
		if err != nil {
			return nil, fmt.Errorf("stored article %s: %w", keys[i], err)
		}
		prev[keys[i]] = a.Newsletters
	}
	return prev, nil
}

// markDeleted adds to prev, as stored already, the articles of arts that
// an editor deleted (Delete), so that a feed which still carries them does
// not bring them back.
func markDeleted(ctx context.Context, tx *redis.Tx, arts []Article, prev map[string][]string) error {
	hashes := make([]string, len(arts))
	for i, a := range arts {
		hashes[i] = urlHash(a.URL)
	}
	scores, err := tx.ZMScore(ctx, keyDeleted(), hashes...).Result()
	if err != nil {
		return err
	}
	for i, score := range scores {
		if score != 0 { // ZMSCORE answers 0 for a member that is not there
			prev[keyArticle(hashes[i])] = nil
		}
	}
	return nil
}

// queueWrites queues the writes of arts on p, given the newsletters of the
// stored ones in prev, which it updates as it goes.
func queueWrites(ctx context.Context, p redis.Pipeliner, arts []Article, prev map[string][]string, onlyNew bool) (created, updated int, err error) {
	for i := range arts {
		a := &arts[i]
		h := urlHash(a.URL)
		old, exists := prev[keyArticle(h)]
		if exists && onlyNew {
			continue
		}
		raw, err := encodeArticle(a)
		if err != nil {
			return 0, 0, err
		}
		p.Set(ctx, keyArticle(h), raw, 0)
		if !onlyNew { // an editor's write brings back a deleted article
			p.ZRem(ctx, keyDeleted(), h)
		}
		for _, nl := range old {
			if !slices.Contains(a.Newsletters, nl) {
				p.ZRem(ctx, keyNewsletterArticles(nl), h)
			}
		}
		score := float64(millis(a.PublishedAt))
		for _, nl := range a.Newsletters {
			p.ZAdd(ctx, keyNewsletterArticles(nl), redis.Z{Score: score, Member: h})
		}
		p.ZAdd(ctx, keyArticleIndex(), redis.Z{Score: score, Member: h})
		if exists {
			updated++
		} else {
			created++
		}
		prev[keyArticle(h)] = a.Newsletters
	}
	return created, updated, nil
}
