package articles

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// Query chooses the articles that List returns.
type Query struct {
	// Newsletter keeps the articles of that newsletter; empty, every one.
	Newsletter string
	// From and To bound the publication time, both included; zero: no
	// bound. Times count to the millisecond.
	From, To time.Time
	// Offset skips that many articles of the list; Limit is the most
	// returned (none when not positive).
	Offset, Limit int
}

// List returns one page of the articles q chooses, newest published first,
// and how many q chooses in all. An article filed in no newsletter is
// listed only without a newsletter filter. Articles stored before the
// index of all articles existed are listed once IndexExisting has run.
func (s *Store) List(ctx context.Context, q Query) ([]Article, int64, error) {
	list := []Article{}
	if !q.From.IsZero() && !q.To.IsZero() && q.From.After(q.To) {
		return nil, 0, newsletter.FieldError(newsletter.EINVALID, "from", "from must not be after to.")
	}
	key := keyArticleIndex()
	if q.Newsletter != "" {
		key = keyNewsletterArticles(q.Newsletter)
	}
	lo, hi := "-inf", "+inf"
	if !q.From.IsZero() {
		ms := millis(q.From)
		if time.UnixMilli(ms).Before(q.From) { // from is inside that millisecond
			ms++
		}
		lo = strconv.FormatInt(ms, 10)
	}
	if !q.To.IsZero() {
		hi = strconv.FormatInt(millis(q.To), 10)
	}
	var count *redis.IntCmd
	var page *redis.StringSliceCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		count = p.ZCount(ctx, key, lo, hi)
		if q.Limit > 0 {
			page = p.ZRangeArgs(ctx, redis.ZRangeArgs{Key: key, ByScore: true, Rev: true,
				Start: hi, Stop: lo, Offset: int64(max(q.Offset, 0)), Count: int64(q.Limit)})
		}
		return nil
	})
	if err != nil {
		return nil, 0, wrap("list", err)
	}
	if page == nil || len(page.Val()) == 0 {
		return list, count.Val(), nil
	}
	hashes := page.Val()
	keys := make([]string, len(hashes))
	for i, h := range hashes {
		keys[i] = keyArticle(h)
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, 0, wrap("list", err)
	}
	for i, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // deleted meanwhile
		}
		a, err := decodeArticle([]byte(str))
		if err != nil {
			return nil, 0, fmt.Errorf("articles: list: article %s: %w", hashes[i], err)
		}
		list = append(list, *a)
	}
	return list, count.Val(), nil
}

// indexExisting adds to the index of all articles (KEYS[1]) every article
// of the newsletters' sorted sets (KEYS[3] on), once: KEYS[2] marks that
// it was done. The index is one of the sources, so that articles written
// since it existed keep their entries.
var indexExisting = redis.NewScript(`
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
local args = {'ZUNIONSTORE', KEYS[1], #KEYS - 1, KEYS[1]}
for i = 3, #KEYS do args[#args + 1] = KEYS[i] end
args[#args + 1] = 'AGGREGATE'
args[#args + 1] = 'MAX'
redis.call(unpack(args))
redis.call('SET', KEYS[2], '1')
return 1
`)

// IndexExisting puts the articles stored before the index of all articles
// existed into it, from the sorted sets of the given newsletters (every
// newsletter there is): one script, run once per database; after its
// first success a Store does not ask again. Upsert keeps the index itself,
// so only articles older than it need this. It reports whether it added
// to the index now.
func (s *Store) IndexExisting(ctx context.Context, newsletters []string) (bool, error) {
	if s.indexed.Load() {
		return false, nil
	}
	keys := []string{keyArticleIndex(), keyIndexed()}
	for _, nl := range uniq(newsletters) {
		keys = append(keys, keyNewsletterArticles(nl))
	}
	n, err := indexExisting.Run(ctx, s.rdb, keys).Int()
	if err != nil {
		return false, wrap("index existing", err)
	}
	s.indexed.Store(true)
	return n == 1, nil
}
