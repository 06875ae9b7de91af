package subscribers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
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
}

// NewStore returns a Store on the given Redis client.
func NewStore(rdb redis.UniversalClient) *Store {
	return &Store{rdb: rdb}
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
	var h *redis.MapStringStringCmd
	var consent *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		h = p.HGetAll(ctx, keySubscriber(id))
		consent = p.LRange(ctx, keyConsent(id), 0, -1)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(h.Val()) == 0 {
		return nil, nil
	}
	sub := decodeSubscriber(id, h.Val())
	for _, raw := range consent.Val() {
		var c Consent
		if err := json.Unmarshal([]byte(raw), &c); err != nil {
			return nil, fmt.Errorf("consent record of subscriber %d: %w", id, err)
		}
		sub.Consent = append(sub.Consent, c)
	}
	return sub, nil
}

func decodeSubscriber(id int64, h map[string]string) *Subscriber {
	sub := &Subscriber{ID: id, Email: h[fieldEmail], Name: h[fieldName],
		CreatedAt: unixTime(h[fieldCreatedAt]), Subscriptions: []Subscription{}, Consent: []Consent{}}
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

// AddConsent appends a consent record to subscriber id's history.
func (s *Store) AddConsent(ctx context.Context, id int64, c Consent) error {
	raw, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.rdb.RPush(ctx, keyConsent(id), raw).Err()
}

// MarkWelcomed records that subscriber id was welcomed to newsletter nl and
// reports whether this is the first time.
func (s *Store) MarkWelcomed(ctx context.Context, id int64, nl string) (bool, error) {
	return s.rdb.HSetNX(ctx, keySubscriber(id), fieldWelcomed(nl), 1).Result()
}

// unmarkWelcomed forgets that subscriber id was welcomed to newsletter nl.
func (s *Store) unmarkWelcomed(ctx context.Context, id int64, nl string) error {
	return s.rdb.HDel(ctx, keySubscriber(id), fieldWelcomed(nl)).Err()
}

func unixTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n == 0 {
		return time.Time{}
	}
	return time.Unix(n, 0).UTC()
}
