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
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
)

// Visitor is who followed a link, as far as counting needs: the IP address
// and user agent are hashed with the digest's id under the day's salt, and
// never stored.
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
	CountScanner CountOutcome = "scanner" // a visitor marked as a scanner in the last minutes
	CountLimited CountOutcome = "limited" // a client past its rate of counted requests (the caller's limit)
	CountFolded  CountOutcome = "folded"  // a digest whose numbers are final (folded after its retention)
)

// Scanner filtering: only timing no reader reaches. A visitor that
// follows burstArticles different links of one digest within burstWindow
// is a scanner; while the digest is being delivered (sending, or
// finished less than deliveryGrace ago), when mail scanners follow every
// link of a message they receive, deliveryBurstArticles within
// deliveryBurstWindow suffice. Only the clicks of the burst's window are
// taken back, and the mark lapses after markLifetime to 2×markLifetime
// (two buckets).
const (
	burstWindow           = 2 * time.Second
	burstArticles         = 3
	deliveryBurstWindow   = time.Second
	deliveryBurstArticles = 2
	deliveryGrace         = 2 * time.Minute
	markLifetime          = 10 * time.Minute
)

// maxAgentBytes is as much of a user agent as matching and hashing look
// at: real ones are shorter, and a longer one is cut, not refused.
const maxAgentBytes = 256

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
// digest's numbers are folded or the visitor is marked as a scanner (in
// the current or previous mark bucket). A visitor's recent clicks, the
// articles it followed within the window with the time of the latest
// click and the clicks since the first ("a:ms:n,..."), are kept in the
// current burst bucket (a hash by visitor; the previous bucket is read
// when the current has none): buckets are burstWindow long and expire
// after three, so that they hold the last window whatever the time. Once
// the window holds ARGV[4] different articles, the visitor is a scanner:
// the window's clicks are taken back, it is marked and it joins the
// scanners, whom the unique counts leave out. It returns 1 when counted,
// 0 for a marked scanner, -1 for a burst, -2 when folded.
//
// KEYS: digest hash, clicks, article's clickers, clickers, scanners,
// burst bucket, previous burst bucket, mark bucket, previous mark bucket.
// ARGV: article id, visitor, window ms, burst articles, now ms, burst
// bucket ttl ms, mark bucket ttl ms.
var clickScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'engagement') == 1 then return -2 end
if redis.call('SISMEMBER', KEYS[8], ARGV[2]) == 1 or redis.call('SISMEMBER', KEYS[9], ARGV[2]) == 1 then return 0 end
local now, window = tonumber(ARGV[5]), tonumber(ARGV[3])
local seen = redis.call('HGET', KEYS[6], ARGV[2]) or redis.call('HGET', KEYS[7], ARGV[2]) or ''
local recent, n = {}, 0
for a, ms, c in string.gmatch(seen, '([^:,]+):(%d+):(%d+)') do
  if now - tonumber(ms) < window then recent[a] = {tonumber(ms), tonumber(c)}; n = n + 1 end
end
if recent[ARGV[1]] == nil then
  n = n + 1
  recent[ARGV[1]] = {now, 0}
end
if n >= tonumber(ARGV[4]) then
  for a, v in pairs(recent) do
    if v[2] > 0 then redis.call('HINCRBY', KEYS[2], a, -v[2]) end
  end
  redis.call('HDEL', KEYS[6], ARGV[2])
  redis.call('SADD', KEYS[8], ARGV[2])
  redis.call('PEXPIRE', KEYS[8], ARGV[7])
  redis.call('PFADD', KEYS[5], ARGV[2])
  return -1
end
recent[ARGV[1]] = {now, recent[ARGV[1]][2] + 1}
local out = {}
for a, v in pairs(recent) do out[#out + 1] = a .. ':' .. v[1] .. ':' .. v[2] end
redis.call('HSET', KEYS[6], ARGV[2], table.concat(out, ','))
redis.call('PEXPIRE', KEYS[6], ARGV[6])
redis.call('HINCRBY', KEYS[2], ARGV[1], 1)
redis.call('PFADD', KEYS[3], ARGV[2])
redis.call('PFADD', KEYS[4], ARGV[2])
return 1
`)

// CountClick counts a click of v on the link to article of digest id (l,
// from Linked), aggregate only: a click per article and v's salted hash
// in the estimates of unique clickers. Test digests, known scanner user
// agents, scanners' bursts and digests whose numbers are folded are not
// counted.
func (s *Store) CountClick(ctx context.Context, id, article string, l *Linked, v Visitor, now time.Time) (CountOutcome, error) {
	if out, ok := uncounted(l, v); !ok {
		return out, nil
	}
	visitor, err := s.visitor(ctx, id, v, now)
	if err != nil {
		return "", err
	}
	window, burst := burstWindow, burstArticles
	if l.Delivering {
		window, burst = deliveryBurstWindow, deliveryBurstArticles
	}
	b, m := now.UnixMilli()/burstWindow.Milliseconds(), now.UnixMilli()/markLifetime.Milliseconds()
	keys := []string{keyDigest(id), keyClicks(id), keyArticleClickers(id, article), keyClickers(id), keyScanners(id),
		keyBurst(id, b), keyBurst(id, b-1), keyMarks(id, m), keyMarks(id, m-1)}
	n, err := clickScript.Run(ctx, s.rdb, keys, article, visitor, window.Milliseconds(), burst, now.UnixMilli(),
		3*burstWindow.Milliseconds(), 2*markLifetime.Milliseconds()).Int()
	if err != nil {
		return "", fmt.Errorf("digests: count click: %w", err)
	}
	return outcomes[n], nil
}

// outcomes are what the click and open scripts' answers mean.
var outcomes = map[int]CountOutcome{1: CountCounted, 0: CountScanner, -1: CountBurst, -2: CountFolded}

// openScript counts one open, unless the digest's numbers are folded or
// the visitor is a marked scanner; it answers as clickScript.
//
// KEYS: digest hash, opens, openers, mark bucket, previous mark bucket.
// ARGV: visitor.
var openScript = redis.NewScript(`
if redis.call('HEXISTS', KEYS[1], 'engagement') == 1 then return -2 end
if redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 or redis.call('SISMEMBER', KEYS[5], ARGV[1]) == 1 then return 0 end
redis.call('INCR', KEYS[2])
redis.call('PFADD', KEYS[3], ARGV[1])
return 1
`)

// CountOpen counts an open of digest id (l, from Linked) by v, the same
// aggregate way as clicks.
func (s *Store) CountOpen(ctx context.Context, id string, l *Linked, v Visitor, now time.Time) (CountOutcome, error) {
	if out, ok := uncounted(l, v); !ok {
		return out, nil
	}
	visitor, err := s.visitor(ctx, id, v, now)
	if err != nil {
		return "", err
	}
	m := now.UnixMilli() / markLifetime.Milliseconds()
	keys := []string{keyDigest(id), keyOpens(id), keyOpeners(id), keyMarks(id, m), keyMarks(id, m-1)}
	n, err := openScript.Run(ctx, s.rdb, keys, visitor).Int()
	if err != nil {
		return "", fmt.Errorf("digests: count open: %w", err)
	}
	return outcomes[n], nil
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

// visitor returns v's hash in digest id under the day's salt, making
// the salt when the day has none yet. The digest is in the hash, so the
// same reader is a different visitor in every digest.
func (s *Store) visitor(ctx context.Context, id string, v Visitor, now time.Time) (string, error) {
	day := now.UTC()
	left := day.Truncate(24 * time.Hour).Add(24 * time.Hour).Sub(day)
	salt, err := s.salt(ctx, keySalt(day.Format(time.DateOnly)), max(left, minSaltTTL))
	if err != nil {
		return "", fmt.Errorf("digests: salt: %w", err)
	}
	m := hmac.New(sha256.New, salt)
	m.Write([]byte(id + "\x00" + v.IP + "\x00" + agent(v.UserAgent)))
	return hex.EncodeToString(m.Sum(nil)[:16]), nil
}

// agent is as much of user agent ua as counting looks at: its first
// maxAgentBytes bytes.
func agent(ua string) string {
	if len(ua) > maxAgentBytes {
		return ua[:maxAgentBytes]
	}
	return ua
}

// saltBytes is the length of a day's salt.
const saltBytes = 32

// minSaltTTL is the shortest life of a salt made at the very end of a day,
// so that the clicks of that last moment share it.
const minSaltTTL = time.Second

// daySalt keeps the salt of the day in this process once read, so that a
// click costs no round trip for it: it is the same all day, in every
// process; it is dropped when its key expires in Redis (midnight UTC).
type daySalt struct {
	mu   sync.Mutex
	key  string
	salt []byte
}

// salt returns the salt at key, setting a random one that lives for ttl
// if there is none: every process hashes with the same salt all day, and
// the salt is gone when the day is.
func (s *Store) salt(ctx context.Context, key string, ttl time.Duration) ([]byte, error) {
	s.daySalt.mu.Lock()
	defer s.daySalt.mu.Unlock()
	if s.daySalt.key == key {
		return s.daySalt.salt, nil
	}
	salt, err := s.readSalt(ctx, key, ttl)
	if err == nil {
		s.daySalt.key, s.daySalt.salt = key, salt
		time.AfterFunc(ttl, func() { s.forgetSalt(key) }) // gone from memory when gone from Redis
	}
	return salt, err
}

// forgetSalt drops the salt at key from memory, if it is the one kept.
func (s *Store) forgetSalt(key string) {
	s.daySalt.mu.Lock()
	defer s.daySalt.mu.Unlock()
	if s.daySalt.key == key {
		s.daySalt.key, s.daySalt.salt = "", nil
	}
}

// readSalt reads the salt at key from Redis, setting a random one that
// lives for ttl if there is none.
func (s *Store) readSalt(ctx context.Context, key string, ttl time.Duration) ([]byte, error) {
	salt, err := s.rdb.Get(ctx, key).Bytes()
	if !errors.Is(err, redis.Nil) {
		return salt, err
	}
	fresh := make([]byte, saltBytes)
	rand.Read(fresh)
	if set, err := s.rdb.SetNX(ctx, key, fresh, ttl).Result(); err != nil || set {
		return fresh, err
	}
	return s.rdb.Get(ctx, key).Bytes()
}
