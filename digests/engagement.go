package digests

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
)

// Engagement is what readers did with a digest, counted without naming
// any of them: clicks per article and, when opens are tracked, opens.
type Engagement struct {
	Clicks ClickStats `json:"clicks"`
	// Opens is nil unless the digest's emails carry the open pixel
	// (NEWSLETTER_TRACK_OPENS).
	Opens *OpenStats `json:"opens,omitempty"`
}

// ClickStats are a digest's clicks: in all, estimated unique clickers,
// and per article in the digest's order.
type ClickStats struct {
	Total    int64           `json:"total"`
	Unique   int64           `json:"unique"`
	Articles []ArticleClicks `json:"articles"`
}

// ArticleClicks are the clicks on one article's link.
type ArticleClicks struct {
	ID     string `json:"id"`
	URL    string `json:"url"`
	Title  string `json:"title"`
	Clicks int64  `json:"clicks"`
	Unique int64  `json:"unique"`
}

// OpenStats are a digest's opens and estimated unique openers.
type OpenStats struct {
	Total  int64 `json:"total"`
	Unique int64 `json:"unique"`
}

// tally is the raw numbers behind a digest's Engagement: the clicks per
// article id, and the HyperLogLog counts that the unique estimates come
// from. It is what folding keeps in the digest's hash (its JSON).
type tally struct {
	Clicks   map[string]int64 `json:"clicks"`
	Scanners int64            `json:"scanners"`
	Clickers int64            `json:"clickers"` // |clickers ∪ scanners|
	Each     map[string]int64 `json:"each"`     // |article's clickers ∪ scanners|
	Opens    *int64           `json:"opens,omitempty"`
	Openers  int64            `json:"openers"` // |openers ∪ scanners|
}

// Engagement fills in d.Engagement, d's clicks and opens: from the
// numbers folded into its hash once its retention passed, else from its
// counters and sketches, in one pipeline (3 + one PFCOUNT per article).
// Get leaves it out, for it costs: only the editors' views and the
// metrics ask for it.
func (s *Store) Engagement(ctx context.Context, d *Digest) error {
	t, err := s.tally(ctx, d)
	if err != nil {
		return fmt.Errorf("digests: engagement of %s: %w", d.ID, err)
	}
	d.Engagement = t.engagement(d)
	return nil
}

// tally reads d's raw numbers.
func (s *Store) tally(ctx context.Context, d *Digest) (tally, error) {
	var folded *redis.StringCmd
	var clicks *redis.MapStringStringCmd
	var scanners, clickers, openers *redis.IntCmd
	var opens *redis.StringCmd
	each := make([]*redis.IntCmd, len(d.Articles))
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		folded = p.HGet(ctx, keyDigest(d.ID), "engagement")
		clicks = p.HGetAll(ctx, keyClicks(d.ID))
		scanners = p.PFCount(ctx, keyScanners(d.ID))
		clickers = p.PFCount(ctx, keyClickers(d.ID), keyScanners(d.ID))
		for i, a := range d.Articles {
			each[i] = p.PFCount(ctx, keyArticleClickers(d.ID, articles.IDOf(a.URL)), keyScanners(d.ID))
		}
		opens = p.Get(ctx, keyOpens(d.ID))
		openers = p.PFCount(ctx, keyOpeners(d.ID), keyScanners(d.ID))
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return tally{}, err
	}
	var t tally
	if folded.Err() == nil {
		err := json.Unmarshal([]byte(folded.Val()), &t)
		return t, err
	}
	t = tally{Clicks: map[string]int64{}, Each: map[string]int64{}, Scanners: scanners.Val(),
		Clickers: clickers.Val(), Openers: openers.Val()}
	for id, n := range clicks.Val() {
		t.Clicks[id] = atoi(n)
	}
	for i, a := range d.Articles {
		t.Each[articles.IDOf(a.URL)] = each[i].Val()
	}
	if opens.Err() == nil {
		n := atoi(opens.Val())
		t.Opens = &n
	}
	return t, nil
}

// engagement turns t into d's Engagement. The unique estimates leave out
// the scanners: |A ∪ S| - |S| of HyperLogLogs, never more than the total.
func (t tally) engagement(d *Digest) Engagement {
	var e Engagement
	for _, n := range t.Clicks {
		e.Clicks.Total += n
	}
	e.Clicks.Unique = min(e.Clicks.Total, max(0, t.Clickers-t.Scanners))
	e.Clicks.Articles = make([]ArticleClicks, len(d.Articles))
	for i, a := range d.Articles {
		id := articles.IDOf(a.URL)
		n := t.Clicks[id]
		e.Clicks.Articles[i] = ArticleClicks{ID: id, URL: a.URL, Title: a.Title, Clicks: n,
			Unique: min(n, max(0, t.Each[id]-t.Scanners))}
	}
	if t.Opens != nil {
		e.Opens = &OpenStats{Total: *t.Opens, Unique: min(*t.Opens, max(0, t.Openers-t.Scanners))}
	}
	return e
}

// foldScript folds a digest's numbers into its hash (field "engagement",
// a tally's JSON) and deletes its clicks hash and sketches, unless it is
// folded already. Clicks and opens after it are not counted.
//
// KEYS: digest hash, clicks, clickers, scanners, opens, openers, then
// each article's clickers. ARGV: the article ids, in KEYS' order.
var foldScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'engagement') == 1 then return 0 end
local t = {clicks = {}, each = {}}
local c = redis.call('HGETALL', KEYS[2])
for i = 1, #c, 2 do t.clicks[c[i]] = tonumber(c[i+1]) end
t.scanners = redis.call('PFCOUNT', KEYS[4])
t.clickers = redis.call('PFCOUNT', KEYS[3], KEYS[4])
for i = 1, #ARGV do t.each[ARGV[i]] = redis.call('PFCOUNT', KEYS[6+i], KEYS[4]) end
local opens = redis.call('GET', KEYS[5])
if opens then t.opens = tonumber(opens) end
t.openers = redis.call('PFCOUNT', KEYS[6], KEYS[4])
redis.call('HSET', KEYS[1], 'engagement', cjson.encode(t))
for i = 2, #KEYS do redis.call('DEL', KEYS[i]) end
return 1
`)

// foldBatch is how many digests of a newsletter one Fold looks at.
const foldBatch = 100

// Fold folds the click and open numbers of newsletter nl's digests that
// finished more than Retention before now into their hashes, and deletes
// their sketches (a dense HyperLogLog is 12 KB, and a digest has one per
// article): the numbers stay as they were, and later clicks and opens
// are not counted. It goes through up to foldBatch digests in creation
// order from where the last Fold left off, folding each that is ready and
// passing over those not finished long enough (a digest stuck sending, one
// scheduled far ahead); it next starts at the first it passed over. It
// returns how many it folded.
func (s *Store) Fold(ctx context.Context, nl string, now time.Time) (int, error) {
	from, err := s.rdb.Get(ctx, keyFolded(nl)).Int64()
	if err != nil && !errors.Is(err, redis.Nil) {
		return 0, fmt.Errorf("digests: fold: %w", err)
	}
	before := now.Add(-s.Retention).UnixMilli()
	list, err := s.rdb.ZRangeByScoreWithScores(ctx, keyDigests(nl), &redis.ZRangeBy{Min: itoa(from), Max: itoa(before), Count: foldBatch}).Result()
	if err != nil {
		return 0, fmt.Errorf("digests: fold: %w", err)
	}
	folded, at, waiting := 0, from, false
	for _, z := range list {
		id, _ := z.Member.(string)
		ready, n, ferr := s.fold(ctx, id, before)
		if err = ferr; err != nil {
			break
		}
		folded += n
		if waiting = waiting || !ready; !waiting {
			at = int64(z.Score) // every digest up to here is folded
		}
	}
	if at != from {
		if serr := s.rdb.Set(ctx, keyFolded(nl), at, 0).Err(); err == nil {
			err = serr
		}
	}
	return folded, err
}

// fold folds digest id's numbers if it finished before the unix ms
// before; ready is false when it has not. n is 1 when it was folded now.
func (s *Store) fold(ctx context.Context, id string, before int64) (ready bool, n int, err error) {
	v, err := s.rdb.HMGet(ctx, keyDigest(id), "meta", "status", "finished_at").Result()
	if err != nil {
		return false, 0, fmt.Errorf("digests: fold %s: %w", id, err)
	}
	if v[0] == nil { // gone
		return true, 0, nil
	}
	if !Status(str(v[1])).Finished() || atoi(str(v[2])) > before {
		return false, 0, nil
	}
	var meta struct {
		Articles []articles.Article `json:"articles"`
	}
	if err := json.Unmarshal([]byte(str(v[0])), &meta); err != nil {
		return false, 0, fmt.Errorf("digests: decode %s: %w", id, err)
	}
	keys := []string{keyDigest(id), keyClicks(id), keyClickers(id), keyScanners(id), keyOpens(id), keyOpeners(id)}
	ids := make([]any, len(meta.Articles))
	for i, a := range meta.Articles {
		ids[i] = articles.IDOf(a.URL)
		keys = append(keys, keyArticleClickers(id, ids[i].(string)))
	}
	n, err = foldScript.Run(ctx, s.rdb, keys, ids...).Int()
	if err != nil {
		return false, 0, fmt.Errorf("digests: fold %s: %w", id, err)
	}
	return true, n, nil
}
