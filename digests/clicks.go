package digests

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
)

// Visitor is who followed a link, as far as counting needs: the IP address
// and user agent are hashed with the day's salt and never stored.
type Visitor struct {
	IP        string
	UserAgent string
}

// CountOutcome is what counting made of one click or open.
type CountOutcome string

// The outcomes of a click or open. Only CountCounted adds to the numbers.
const (
	CountCounted CountOutcome = "counted"
	CountTest    CountOutcome = "test"    // a test digest's link: never counted
	CountAgent   CountOutcome = "agent"   // a known scanner or link-preview user agent
	CountBurst   CountOutcome = "burst"   // a burst that marks a scanner: its clicks are taken back
	CountScanner CountOutcome = "scanner" // a visitor already marked as a scanner
)

// Scanner filtering. A visitor that follows burstArticles different links
// of one digest within burstWindow is a scanner; while the digest is being
// delivered (sending, or finished less than deliveryGrace ago), when mail
// scanners follow every link of a message they receive, two links suffice.
const (
	burstWindow           = 5 * time.Second
	burstArticles         = 3
	deliveryBurstArticles = 2
	deliveryGrace         = 2 * time.Minute
)

// Linked is what a digest's click and open links need of it.
type Linked struct {
	Newsletter string
	// Test is set for a test digest, whose links are never counted.
	Test bool
	// Delivering is set while the digest is sent and for deliveryGrace
	// after, when scanners follow links at delivery.
	Delivering bool
	articles   []articles.Article
}

// ArticleURL returns the URL of the article with the given id as the
// digest carries it: editing or deleting the article since does not
// change where the digest's links lead.
func (l *Linked) ArticleURL(article string) (string, bool) {
	for _, a := range l.articles {
		if articles.IDOf(a.URL) == article {
			return a.URL, true
		}
	}
	return "", false
}

// Linked returns what digest id's links need, or nil when there is no
// such digest.
func (s *Store) Linked(ctx context.Context, id string, now time.Time) (*Linked, error) {
	if !ValidID(id) {
		return nil, nil
	}
	v, err := s.rdb.HMGet(ctx, keyDigest(id), "meta", "status", "finished_at").Result()
	if err != nil || v[0] == nil {
		return nil, err
	}
	var meta struct {
		Newsletter     string             `json:"newsletter"`
		Articles       []articles.Article `json:"articles"`
		TestRecipients []string           `json:"test_recipients"`
	}
	if err := json.Unmarshal([]byte(str(v[0])), &meta); err != nil {
		return nil, fmt.Errorf("digests: decode %s: %w", id, err)
	}
	st, finished := Status(str(v[1])), atoi(str(v[2]))
	delivering := !st.Finished() || (finished > 0 && now.Sub(time.UnixMilli(finished)) < deliveryGrace)
	return &Linked{Newsletter: meta.Newsletter, Test: len(meta.TestRecipients) > 0,
		Delivering: delivering, articles: meta.Articles}, nil
}

// clickScript counts one click of a visitor on an article, unless the
// visitor is a scanner. Each visitor has a window of ARGV[3] ms from its
// first click (field "@" of its burst hash: the start, in ms): once the
// window holds clicks on ARGV[4] different articles, the visitor is a
// scanner until the day ends, the window's clicks are taken back and it
// joins the scanners, whom the unique counts leave out. The burst hash
// itself expires a minute after the window starts. It returns 1 when
// counted, 0 for a known scanner, -1 for a burst.
//
// KEYS: clicks, article's clickers, clickers, scanners, burst window, scanner mark.
// ARGV: article id, visitor, window ms, burst articles, mark ms, now ms.
var clickScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[6]) == 1 then return 0 end
local start = tonumber(redis.call('HGET', KEYS[5], '@') or '-1')
if start < 0 or tonumber(ARGV[6]) - start >= tonumber(ARGV[3]) then
  redis.call('DEL', KEYS[5])
  redis.call('HSET', KEYS[5], '@', ARGV[6])
  redis.call('PEXPIRE', KEYS[5], 60000)
end
redis.call('HINCRBY', KEYS[5], ARGV[1], 1)
if redis.call('HLEN', KEYS[5]) - 1 >= tonumber(ARGV[4]) then
  local w = redis.call('HGETALL', KEYS[5])
  for i = 1, #w, 2 do
    if w[i] ~= '@' then
      local n = tonumber(w[i+1])
      if w[i] == ARGV[1] then n = n - 1 end
      if n > 0 then redis.call('HINCRBY', KEYS[1], w[i], -n) end
    end
  end
  redis.call('DEL', KEYS[5])
  redis.call('SET', KEYS[6], '1', 'PX', ARGV[5])
  redis.call('PFADD', KEYS[4], ARGV[2])
  return -1
end
redis.call('HINCRBY', KEYS[1], ARGV[1], 1)
redis.call('PFADD', KEYS[2], ARGV[2])
redis.call('PFADD', KEYS[3], ARGV[2])
return 1
`)

// CountClick counts a click of v on the link to article of digest id (l,
// from Linked), aggregate only: a click per article and v's salted hash
// in the estimates of unique clickers. Test digests, known scanner user
// agents and scanners' bursts are not counted.
func (s *Store) CountClick(ctx context.Context, id, article string, l *Linked, v Visitor, now time.Time) (CountOutcome, error) {
	if out, ok := uncounted(l, v); !ok {
		return out, nil
	}
	visitor, dayLeft, err := s.visitor(ctx, v, now)
	if err != nil {
		return "", err
	}
	burst := burstArticles
	if l.Delivering {
		burst = deliveryBurstArticles
	}
	keys := []string{keyClicks(id), keyArticleClickers(id, article), keyClickers(id), keyScanners(id),
		keyBurst(id, visitor), keyScanner(id, visitor)}
	n, err := clickScript.Run(ctx, s.rdb, keys, article, visitor, burstWindow.Milliseconds(), burst, dayLeft.Milliseconds(), now.UnixMilli()).Int()
	switch {
	case err != nil:
		return "", fmt.Errorf("digests: count click: %w", err)
	case n > 0:
		return CountCounted, nil
	case n < 0:
		return CountBurst, nil
	}
	return CountScanner, nil
}

// openScript counts one open, unless the visitor is a marked scanner.
//
// KEYS: opens, openers, scanner mark. ARGV: visitor.
var openScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[3]) == 1 then return 0 end
redis.call('INCR', KEYS[1])
redis.call('PFADD', KEYS[2], ARGV[1])
return 1
`)

// CountOpen counts an open of digest id (l, from Linked) by v, the same
// aggregate way as clicks.
func (s *Store) CountOpen(ctx context.Context, id string, l *Linked, v Visitor, now time.Time) (CountOutcome, error) {
	if out, ok := uncounted(l, v); !ok {
		return out, nil
	}
	visitor, _, err := s.visitor(ctx, v, now)
	if err != nil {
		return "", err
	}
	n, err := openScript.Run(ctx, s.rdb, []string{keyOpens(id), keyOpeners(id), keyScanner(id, visitor)}, visitor).Int()
	if err != nil {
		return "", fmt.Errorf("digests: count open: %w", err)
	}
	if n == 0 {
		return CountScanner, nil
	}
	return CountCounted, nil
}

// uncounted tells what is never counted, before any hashing: test
// digests and scanners' user agents.
func uncounted(l *Linked, v Visitor) (CountOutcome, bool) {
	if l.Test {
		return CountTest, false
	}
	if ScannerAgent(v.UserAgent) {
		return CountAgent, false
	}
	return "", true
}

// visitor returns v's hash under the day's salt and how long the day has
// left, making the salt when the day has none yet.
func (s *Store) visitor(ctx context.Context, v Visitor, now time.Time) (string, time.Duration, error) {
	day := now.UTC()
	left := day.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(day)
	salt, err := s.salt(ctx, keySalt(day.Format(time.DateOnly)), left)
	if err != nil {
		return "", 0, fmt.Errorf("digests: salt: %w", err)
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(v.IP + "\x00" + v.UserAgent))
	return hex.EncodeToString(m.Sum(nil)[:16]), left, nil
}

// saltBytes is the length of a day's salt.
const saltBytes = 32

// salt returns the salt at key, setting a random one that lives for ttl
// if there is none: every process hashes with the same salt all day, and
// the salt is gone when the day is.
func (s *Store) salt(ctx context.Context, key string, ttl time.Duration) ([]byte, error) {
	salt, err := s.rdb.Get(ctx, key).Bytes()
	if !errors.Is(err, redis.Nil) {
		return salt, err
	}
	fresh := make([]byte, saltBytes)
	rand.Read(fresh)
	if _, err := s.rdb.SetNX(ctx, key, fresh, ttl).Result(); err != nil {
		return nil, err
	}
	return s.rdb.Get(ctx, key).Bytes()
}
