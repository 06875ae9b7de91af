package subscribers

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// Store keeps newsletters, subscribers, consent and confirmation tokens in
// Redis. The key layout is in keys.go.
type Store struct {
	rdb redis.UniversalClient
	// MinReplicas is how many replicas must hold a signup, confirmation,
	// unsubscription or erasure before it is answered; 0 answers at once.
	MinReplicas int
	// newsletterSeen holds the ids of newsletters seen to exist: newsletters are
	// never deleted, so a signup need not ask Redis again.
	newsletterSeen sync.Map
	ids            idPool      // ids reserved for new addresses
	group          groupCommit // the signups' round trips, sent together
}

// NewStore returns a Store on the given Redis client.
func NewStore(rdb redis.UniversalClient) *Store {
	return &Store{rdb: rdb, group: groupCommit{rdb: rdb}}
}

// Ping reports whether Redis answers.
func (s *Store) Ping(ctx context.Context) error {
	return s.rdb.Ping(ctx).Err()
}

// SubscriberID returns the id of the subscriber with the given normalized
// address, or 0 when there is none.
func (s *Store) SubscriberID(ctx context.Context, addr string) (int64, error) {
	id, err := s.rdb.HGet(ctx, keyIndex(PartitionOf(addr)), AddressKey(addr)).Int64()
	if errors.Is(err, redis.Nil) {
		return 0, nil
	}
	return id, err
}

// Subscriber loads everything held about subscriber id, or nil when there
// is no such subscriber.
func (s *Store) Subscriber(ctx context.Context, id int64) (*Subscriber, error) {
	h, err := s.rdb.HGetAll(ctx, keySubscriber(id)).Result()
	if err != nil || len(h) == 0 {
		return nil, err
	}
	sub := decodeSubscriber(id, h)
	if err := s.withConsents(ctx, newsletter.PartitionOf(id), []*Subscriber{sub}, []map[string]string{h}); err != nil {
		return nil, fmt.Errorf("consent records of subscriber %d: %w", id, err)
	}
	return sub, nil
}

func decodeSubscriber(id int64, h map[string]string) *Subscriber {
	sub := &Subscriber{ID: id, Email: h[fieldEmail], Name: h[fieldName],
		CreatedAt: unixTime(h[fieldCreatedAt]), Subscriptions: []Subscription{}, Consent: []Consent{}}
	if sub.CreatedAt.IsZero() { // the time of its first consent record
		sub.CreatedAt = firstConsentTime(h)
	}
	for field, v := range h {
		if nl, ok := strings.CutPrefix(field, prefixSubscription); ok {
			sub.Subscriptions = append(sub.Subscriptions, decodeSubscription(nl, v))
		}
	}
	sortSubscriptions(sub.Subscriptions)
	return sub
}

// SetName sets the name of subscriber id.
func (s *Store) SetName(ctx context.Context, id int64, name string) error {
	return s.rdb.HSet(ctx, keySubscriber(id), fieldName, name).Err()
}

// welcomedScript sets (ARGV[2] = "1") or clears the welcomed mark of
// subscription ARGV[1] in hash KEYS[1], and returns 1 when it changed it.
var welcomedScript = redis.NewScript(luaTransition + `
local field = '` + prefixSubscription + `' .. ARGV[1]
local st, w, sa, ca, ua, begin, link = parse_sub(redis.call('HGET', KEYS[1], field))
local want = ARGV[2] == '1'
if st == '' or w == want then return 0 end
redis.call('HSET', KEYS[1], field, format_sub(st, want, sa, ca, ua, begin, link))
return 1
`)

// MarkWelcomed records that subscriber id was welcomed to newsletter nl and
// reports whether this is the first time.
func (s *Store) MarkWelcomed(ctx context.Context, id int64, nl string) (bool, error) {
	n, err := welcomedScript.Run(ctx, s.rdb, []string{keySubscriber(id)}, nl, "1").Int()
	return n == 1, err
}

// unmarkWelcomed forgets that subscriber id was welcomed to newsletter nl.
func (s *Store) unmarkWelcomed(ctx context.Context, id int64, nl string) error {
	return welcomedScript.Run(ctx, s.rdb, []string{keySubscriber(id)}, nl, "0").Err()
}

// firstConsentTime is the time of the first consent record in a
// subscriber's hash: when it was created, unless field c says otherwise.
func firstConsentTime(h map[string]string) time.Time {
	fields := strings.Split(h[prefixConsent+"1"], consentSep)
	if len(fields) < 2 {
		return time.Time{}
	}
	return unixTime(fields[1])
}

// atoi is the number in s, 0 when there is none.
func atoi(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
