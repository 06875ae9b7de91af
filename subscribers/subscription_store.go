package subscribers

import (
	"context"
	"errors"
	"newsletter"
	"sort"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// Transitions a subscription can go through.
const (
	transSubscribe   = "subscribe"   // none or unsubscribed -> pending
	transConfirm     = "confirm"     // pending -> confirmed
	transUnsubscribe = "unsubscribe" // pending or confirmed -> unsubscribed
)

// luaTransition defines transition(h, aud, nl, bit, act, now) for scripts:
// it moves the subscription to newsletter nl of the subscriber kept in hash
// h, whose bit in its partition's audiences is bit, from one status to
// another, keeping the audience bitmaps named in aud (by status) in step. A subscription is stored as
// "status|subscribed_at|confirmed_at|unsubscribed_at" in unix seconds. It
// returns the status before ("" for none).
const luaTransition = luaClearBit + `
local function transition(h, aud, nl, bit, act, now)
  local field = '` + prefixSubscription + `' .. nl
  local cur = redis.call('HGET', h, field)
  local st, sa, ca, ua = '', '0', '0', '0'
  if cur then st, sa, ca, ua = string.match(cur, '^(%a+)|(%d+)|(%d+)|(%d+)$') end
  local next = nil
  if act == 'subscribe' and (st == '' or st == 'unsubscribed') then
    next, sa, ca, ua = 'pending', now, '0', '0'
  elseif act == 'confirm' and st == 'pending' then
    next, ca = 'confirmed', now
  elseif act == 'unsubscribe' and (st == 'pending' or st == 'confirmed') then
    next, ua = 'unsubscribed', now
  end
  if not next then return st end
  redis.call('HSET', h, field, next .. '|' .. sa .. '|' .. ca .. '|' .. ua)
  if st ~= '' then clearbit(aud[st], bit) end
  redis.call('SETBIT', aud[next], bit, 1)
  return st
end
`

// transitionScript runs one transition atomically.
//
// KEYS: subscriber hash, audience bitmaps pending, confirmed, unsubscribed.
// ARGV: newsletter id, the subscriber's bit, transition, now.
var transitionScript = redis.NewScript(luaTransition + `
return transition(KEYS[1], {pending = KEYS[2], confirmed = KEYS[3], unsubscribed = KEYS[4]},
  ARGV[1], ARGV[2], ARGV[3], ARGV[4])
`)

// transition applies one transition to subscriber id's subscription to
// newsletter nl and returns the status it had before ("" for none).
func (s *Store) transition(ctx context.Context, id int64, nl, trans string, now time.Time) (newsletter.Status, error) {
	keys := append([]string{keySubscriber(id)}, audienceKeys(nl, newsletter.PartitionOf(id))...)
	prev, err := transitionScript.Run(ctx, s.rdb, keys, nl, newsletter.BitOf(id), trans, now.Unix()).Text()
	return newsletter.Status(prev), err
}

// Counts returns how many subscribers newsletter nl has in each status: the
// sum over the partitions, read in one pipeline.
func (s *Store) Counts(ctx context.Context, nl string) (newsletter.Counts, error) {
	var cmds [len(newsletter.Statuses)][newsletter.Partitions]*redis.IntCmd
	_, err := s.rdb.Pipelined(ctx, func(pl redis.Pipeliner) error {
		for i, st := range newsletter.Statuses {
			for _, p := range newsletter.AllPartitions() {
				cmds[i][p] = pl.BitCount(ctx, KeyAudience(nl, st, p), nil)
			}
		}
		return nil
	})
	var sums [len(newsletter.Statuses)]int64
	for i := range cmds {
		for _, c := range cmds[i] {
			sums[i] += c.Val()
		}
	}
	return newsletter.Counts{Pending: sums[0], Confirmed: sums[1], Unsubscribed: sums[2]}, err
}

func decodeSubscription(nl, v string) Subscription {
	parts := strings.Split(v, "|")
	for len(parts) < 4 {
		parts = append(parts, "0")
	}
	return Subscription{
		Newsletter:     nl,
		Status:         newsletter.Status(parts[0]),
		SubscribedAt:   unixTime(parts[1]),
		ConfirmedAt:    optionalTime(parts[2]),
		UnsubscribedAt: optionalTime(parts[3]),
	}
}

func optionalTime(s string) *time.Time {
	t := unixTime(s)
	if t.IsZero() {
		return nil
	}
	return &t
}

func sortSubscriptions(subs []Subscription) {
	sort.Slice(subs, func(i, j int) bool { return subs[i].Newsletter < subs[j].Newsletter })
}

// removePendingScript deletes one subscription if it is still pending and,
// when ARGV[3] is not 0, was made before that unix second. It returns 1
// when it deleted it.
//
// KEYS: subscriber hash, audience pending.
// ARGV: newsletter id, the subscriber's bit, cutoff.
var removePendingScript = redis.NewScript(luaClearBit + `
local field = '` + prefixSubscription + `' .. ARGV[1]
local cur = redis.call('HGET', KEYS[1], field)
if not cur then return 0 end
local st, sa = string.match(cur, '^(%a+)|(%d+)|')
if st ~= 'pending' then return 0 end
if ARGV[3] ~= '0' and tonumber(sa) >= tonumber(ARGV[3]) then return 0 end
redis.call('HDEL', KEYS[1], field)
clearbit(KEYS[2], ARGV[2])
return 1
`)

// removePending deletes subscriber id's subscription to newsletter nl if it
// is still pending and, unless before is zero, was made before it; it
// reports whether it did. A pending subscription was never consented to,
// so it leaves nothing behind, not even an "unsubscribed" status.
func (s *Store) removePending(ctx context.Context, id int64, nl string, before time.Time) (bool, error) {
	cutoff := int64(0)
	if !before.IsZero() {
		cutoff = before.Unix()
	}
	keys := []string{keySubscriber(id), KeyAudience(nl, newsletter.StatusPending, newsletter.PartitionOf(id))}
	n, err := removePendingScript.Run(ctx, s.rdb, keys, nl, newsletter.BitOf(id), cutoff).Int()
	return n == 1, err
}

// pendingPage returns up to count subscriber ids of newsletter nl's pending
// audience in partition p whose bit is above after, in order, and the
// subscribed_at of each one's subscription. Paging by bit is stable while
// members are removed behind the cursor.
func (s *Store) pendingPage(ctx context.Context, nl string, p newsletter.Partition, after int64, count int64) ([]int64, []time.Time, error) {
	bits, err := s.audienceAfter(ctx, KeyAudience(nl, newsletter.StatusPending, p), after, count)
	if err != nil || len(bits) == 0 {
		return nil, nil, err
	}
	ids := make([]int64, len(bits))
	for i, b := range bits {
		ids[i] = newsletter.SubscriberID(p, b)
	}
	cmds := make([]*redis.StringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGet(ctx, keySubscriber(id), fieldSubscription(nl))
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return nil, nil, err
	}
	since := make([]time.Time, len(ids))
	for i, cmd := range cmds {
		if sub := decodeSubscription(nl, cmd.Val()); sub.Status == newsletter.StatusPending {
			since[i] = sub.SubscribedAt
		}
	}
	return ids, since, nil
}
