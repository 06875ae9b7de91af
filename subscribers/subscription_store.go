package subscribers

import (
	"context"
	"errors"
	"newsletter"
	"sort"
	"strconv"
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

// A subscription is stored as "S|subscribed_at|confirmed_at|unsubscribed_at"
// in unix seconds, where S is the status's letter (p, c, u), upper case
// once the subscriber was welcomed to the newsletter (which no transition
// forgets: a welcome goes out once). A pending one adds
// "|begin|link_sent_at": the number of the first confirmation token that
// may confirm it and when its last link went out. Trailing "|0"s are left
// out. Values stay short: a million subscribers repeat them.

// luaTransition defines, for scripts:
//
//   - parse_sub(value) and format_sub(st, welcomed, sa, ca, ua, begin, link),
//     st a status's name ("" for none);
//   - transition(h, aud, nl, bit, act, now, seq): moves the subscription to
//     newsletter nl of the subscriber kept in hash h, whose bit in its
//     partition's audiences is bit, from one status to another, keeping the
//     audience bitmaps named in aud (by status) in step, and returns the
//     status before ("" for none). "subscribe" with seq makes seq the
//     subscription's begin; "confirm" with seq confirms only a subscription
//     pending since token seq or before: an older token's.
//   - link_sent(h, nl, now): notes that a link for nl went out at now.
const luaTransition = luaClearBit + `
local status_of = {p = 'pending', c = 'confirmed', u = 'unsubscribed',
  pending = 'pending', confirmed = 'confirmed', unsubscribed = 'unsubscribed'}
local function parse_sub(cur)
  if not cur then return '', false, '0', '0', '0', '0', '0' end
  local f = {}
  for part in string.gmatch(cur, '[^|]+') do f[#f + 1] = part end
  for i = #f + 1, 6 do f[i] = '0' end
  local letter = f[1]
  local welcomed = #letter == 1 and letter ~= string.lower(letter)
  return status_of[string.lower(letter)] or '', welcomed, f[2], f[3], f[4], f[5], f[6]
end
local function format_sub(st, welcomed, sa, ca, ua, begin, link)
  local letter = string.sub(st, 1, 1)
  if welcomed then letter = string.upper(letter) end
  local f = {letter, sa, ca, ua, begin, link}
  local n = 6
  while n > 2 and f[n] == '0' do n = n - 1 end
  return table.concat(f, '|', 1, n)
end
local function transition(h, aud, nl, bit, act, now, seq)
  local field = '` + prefixSubscription + `' .. nl
  local st, w, sa, ca, ua, begin, link = parse_sub(redis.call('HGET', h, field))
  local next = nil
  if act == 'subscribe' and (st == '' or st == 'unsubscribed') then
    next, sa, ca, ua, begin, link = 'pending', now, '0', '0', tostring(seq or 0), '0'
  elseif act == 'confirm' and st == 'pending' and (not seq or tonumber(begin) <= tonumber(seq)) then
    next, ca, begin, link = 'confirmed', now, '0', '0'
  elseif act == 'unsubscribe' and (st == 'pending' or st == 'confirmed') then
    next, ua, begin, link = 'unsubscribed', now, '0', '0'
  end
  if not next then return st end
  redis.call('HSET', h, field, format_sub(next, w, sa, ca, ua, begin, link))
  if st ~= '' then clearbit(aud[st], bit) end
  redis.call('SETBIT', aud[next], bit, 1)
  return st
end
local function link_sent(h, nl, now)
  local field = '` + prefixSubscription + `' .. nl
  local st, w, sa, ca, ua, begin = parse_sub(redis.call('HGET', h, field))
  if st == 'pending' then redis.call('HSET', h, field, format_sub(st, w, sa, ca, ua, begin, now)) end
end
`

// transitionScript runs one transition atomically.
//
// KEYS: subscriber hash, audience bitmaps pending, confirmed, unsubscribed.
// ARGV: newsletter id, the subscriber's bit, transition, now, and for
// "confirm" the token's number (0: any).
var transitionScript = redis.NewScript(luaTransition + `
local seq = nil
if ARGV[5] ~= '0' then seq = ARGV[5] end
return transition(KEYS[1], {pending = KEYS[2], confirmed = KEYS[3], unsubscribed = KEYS[4]},
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], seq)
`)

// transition applies one transition to subscriber id's subscription to
// newsletter nl and returns the status it had before ("" for none).
func (s *Store) transition(ctx context.Context, id int64, nl, trans string, now time.Time) (newsletter.Status, error) {
	return s.transitionBy(ctx, id, nl, trans, now, 0)
}

// transitionBy is transition for confirmation token number seq: a
// "confirm" does nothing to a subscription pending since a later token.
func (s *Store) transitionBy(ctx context.Context, id int64, nl, trans string, now time.Time, seq int64) (newsletter.Status, error) {
	keys := append([]string{keySubscriber(id)}, audienceKeys(nl, newsletter.PartitionOf(id))...)
	prev, err := transitionScript.Run(ctx, s.rdb, keys, nl, newsletter.BitOf(id), trans, now.Unix(), seq).Text()
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

// statusLetters maps the letters of stored subscriptions to statuses.
var statusLetters = map[string]newsletter.Status{"p": newsletter.StatusPending, "c": newsletter.StatusConfirmed,
	"u": newsletter.StatusUnsubscribed}

// decodeSubscription reads a stored subscription (see luaTransition).
func decodeSubscription(nl, v string) Subscription {
	sub, _ := decodeStoredSubscription(nl, v)
	return sub
}

// decodeStoredSubscription reads a stored subscription and whether the
// subscriber was welcomed to it.
func decodeStoredSubscription(nl, v string) (Subscription, bool) {
	parts := strings.Split(v, "|")
	for len(parts) < 6 {
		parts = append(parts, "0")
	}
	st, welcomed := newsletter.Status(parts[0]), false
	if len(parts[0]) == 1 {
		lower := strings.ToLower(parts[0])
		st, welcomed = statusLetters[lower], lower != parts[0]
	}
	begin, _ := strconv.ParseInt(parts[4], 10, 64)
	return Subscription{
		Newsletter:     nl,
		Status:         st,
		SubscribedAt:   unixTime(parts[1]),
		ConfirmedAt:    optionalTime(parts[2]),
		UnsubscribedAt: optionalTime(parts[3]),
		begin:          begin,
		linkSentAt:     unixTime(parts[5]),
	}, welcomed
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
var removePendingScript = redis.NewScript(luaTransition + `
local field = '` + prefixSubscription + `' .. ARGV[1]
local st, w, sa = parse_sub(redis.call('HGET', KEYS[1], field))
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
// audience in partition p whose bit is above after, in order, and each
// one's subscription (Status "" when it is no longer pending). Paging by bit is stable while
// members are removed behind the cursor.
func (s *Store) pendingPage(ctx context.Context, nl string, p newsletter.Partition, after int64, count int64) ([]int64, []Subscription, error) {
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
	subs := make([]Subscription, len(ids))
	for i, cmd := range cmds {
		if sub := decodeSubscription(nl, cmd.Val()); sub.Status == newsletter.StatusPending {
			subs[i] = sub
		}
	}
	return ids, subs, nil
}
