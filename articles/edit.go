package articles

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// errNoArticle answers an edit or delete of an id that names no article.
var errNoArticle = newsletter.Errorf(newsletter.ENOTFOUND, "There is no article with this id.")

// Update replaces the article with the given id by a, normalized and
// validated as Upsert does (errors name the field alone: "url", "title"),
// and returns it as stored. a naming no newsletter stays in the
// newsletters the stored article is in (those of them still among
// allNewsletters; all of these if none is). A new URL gives the article a new id, IDOf(a.URL), and
// the old URL counts as deleted (Delete); it may not be the URL of another
// stored article (ECONFLICT on "url"). An
// unknown id is ENOTFOUND. Digests keep their own copy of their articles,
// so the ones made already do not change.
func (s *Store) Update(ctx context.Context, id string, a Article, allNewsletters []string) (*Article, error) {
	if !ValidID(id) {
		return nil, errNoArticle
	}
	keep := len(a.Newsletters) == 0
	arts, err := prepare([]Article{a}, allNewsletters)
	if err != nil {
		return nil, unindexed(err)
	}
	all := arts[0].Newsletters
	h := urlHash(arts[0].URL)
	keys := []string{keyArticle(id)}
	if h != id {
		keys = append(keys, keyArticle(h))
	}
	err = s.retryTx(ctx, func(tx *redis.Tx) error {
		old, err := readArticle(ctx, tx, keyArticle(id))
		if err != nil || old == nil {
			return err
		}
		if keep {
			arts[0].Newsletters = stillFiled(old.Newsletters, all)
		}
		prev := map[string][]string{}
		if h == id {
			prev[keyArticle(id)] = old.Newsletters
		} else if n, err := tx.Exists(ctx, keyArticle(h)).Result(); err != nil {
			return err
		} else if n > 0 {
			return newsletter.FieldError(newsletter.ECONFLICT, "url", "Another article has this URL; edit or delete that one.")
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			if h != id {
				queueDelete(ctx, p, id, old.Newsletters)
			}
			_, _, err := queueWrites(ctx, p, arts, prev, false)
			return err
		})
		return err
	}, keys...)
	if err != nil {
		return nil, err
	}
	next := arts[0]
	next.ID = h
	return &next, nil
}

// stillFiled returns the newsletters of filed that are among all, or all
// when none of them is.
func stillFiled(filed, all []string) []string {
	var out []string
	for _, nl := range filed {
		if slices.Contains(all, nl) {
			out = append(out, nl)
		}
	}
	if len(out) == 0 {
		return all
	}
	return out
}

// Delete removes the article with the given id from the store and from
// every list it is in. For 90 days feed polling does not bring it back;
// Upsert or Update of its URL does. An unknown id is ENOTFOUND. Digests keep their own
// copy of their articles, so the ones made already do not change.
func (s *Store) Delete(ctx context.Context, id string) error {
	if !ValidID(id) {
		return errNoArticle
	}
	return s.retryTx(ctx, func(tx *redis.Tx) error {
		old, err := readArticle(ctx, tx, keyArticle(id))
		if err != nil || old == nil {
			return err
		}
		_, err = tx.TxPipelined(ctx, func(p redis.Pipeliner) error {
			queueDelete(ctx, p, id, old.Newsletters)
			return nil
		})
		return err
	}, keyArticle(id))
}

// deletedMemory is how long feeds may not bring back an article that an
// editor deleted; a feed carries an item for days, rarely for weeks.
const deletedMemory = 90 * 24 * time.Hour

// queueDelete queues on p the removal of article h, filed in newsletters,
// and remembers it as deleted, forgetting the deletions older than
// deletedMemory.
func queueDelete(ctx context.Context, p redis.Pipeliner, h string, newsletters []string) {
	p.Del(ctx, keyArticle(h))
	for _, nl := range newsletters {
		p.ZRem(ctx, keyNewsletterArticles(nl), h)
	}
	p.ZRem(ctx, keyArticleIndex(), h)
	now := time.Now()
	p.ZAdd(ctx, keyDeleted(), redis.Z{Score: float64(now.UnixMilli()), Member: h})
	p.ZRemRangeByScore(ctx, keyDeleted(), "-inf", "("+strconv.FormatInt(now.Add(-deletedMemory).UnixMilli(), 10))
}

// readArticle reads the article under key in tx; no article is
// errNoArticle.
func readArticle(ctx context.Context, tx *redis.Tx, key string) (*Article, error) {
	raw, err := tx.Get(ctx, key).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, errNoArticle
	} else if err != nil {
		return nil, err
	}
	return decodeArticle(raw)
}

// retryTx runs fn watching keys, and again while another writer changed
// one of them first, at most maxTxAttempts times. Coded errors come back
// as they are, others wrapped.
func (s *Store) retryTx(ctx context.Context, fn func(*redis.Tx) error, keys ...string) error {
	var err error
	for range maxTxAttempts {
		if err = s.rdb.Watch(ctx, fn, keys...); !errors.Is(err, redis.TxFailedErr) {
			break
		}
	}
	var coded *newsletter.Error
	if err == nil || errors.As(err, &coded) {
		return err
	}
	return wrap("edit", err)
}

// unindexed returns err, an error of a one-article batch, about the field
// alone: "url" instead of "articles[0].url".
func unindexed(err error) error {
	var e *newsletter.Error
	if !errors.As(err, &e) {
		return err
	}
	out := *e
	out.Field = strings.TrimPrefix(out.Field, "articles[0].")
	return &out
}
