package subscribers

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// The gate takes a signup from the client's limits (its own and its
// network's) and a confirmation email from the site's, with plain
// commands in the signup's first pipeline, no script. Each limit is a
// sliding window kept as a sorted set of events, as throttle.Window keeps
// it: the gate trims the window, adds the signup's event, counts, and
// renews the expiry. Adding before counting makes this safe without a
// transaction: a signup that counts after another's add sees it, so no
// more than the limit pass; two at the very edge may each see the other
// and both give back (a refusal a retry undoes), never an extra pass.
// Where a window turned out full, the events are given back: all of them
// when a client's window is full (the client waits, and nothing is
// taken), the site's alone when only the site's is full (no email).

// gateTake queues, on p, the taking of an event from window w at nowMs,
// and returns the command that counts the window after the add.
func gateTake(ctx context.Context, p redis.Pipeliner, w *windowArgs, nowMs int64) *redis.IntCmd {
	p.ZRemRangeByScore(ctx, w.key, "-inf", strconv.FormatInt(nowMs-w.window, 10))
	p.ZAdd(ctx, w.key, redis.Z{Score: float64(nowMs), Member: w.member})
	count := p.ZCard(ctx, w.key)
	p.PExpire(ctx, w.key, time.Duration(w.window)*time.Millisecond)
	return count
}

// gateCounts are the counts of the gate's windows after the signup's add.
type gateCounts struct {
	client []*redis.IntCmd // in the order of signupLimits.client
	site   *redis.IntCmd   // nil: no site limit
}

// queueGate queues the gate's commands for l on p.
func queueGate(ctx context.Context, p redis.Pipeliner, l signupLimits, nowMs int64) gateCounts {
	var g gateCounts
	for _, w := range l.client {
		g.client = append(g.client, gateTake(ctx, p, w, nowMs))
	}
	if l.site != nil {
		g.site = gateTake(ctx, p, l.site, nowMs)
	}
	return g
}

// settleGate reads the gate's counts: it returns how long the client must
// wait (> 0: a client window is full, and every event was given back) and
// whether the site's slot is taken (false when the site's window is full,
// its event then given back, or when there is no site limit).
func (s *Store) settleGate(ctx context.Context, l signupLimits, g gateCounts, nowMs int64) (time.Duration, bool, error) {
	var full []*windowArgs
	for i, w := range l.client {
		n, err := g.client[i].Result()
		if err != nil {
			return 0, false, err
		}
		if n > int64(w.limit) {
			full = append(full, w)
		}
	}
	if len(full) > 0 {
		return s.refuseClient(ctx, l, full, nowMs)
	}
	if g.site == nil {
		return 0, false, nil
	}
	n, err := g.site.Result()
	if err != nil {
		return 0, false, err
	}
	if n > int64(l.site.limit) {
		return 0, false, s.giveBackSite(ctx, l.site, true, nil)
	}
	return 0, true, nil
}

// refuseClient gives back every event the gate took and returns how long
// until the full windows have room: until the oldest event of the
// slowest to free up leaves it.
func (s *Store) refuseClient(ctx context.Context, l signupLimits, full []*windowArgs, nowMs int64) (time.Duration, bool, error) {
	ctx = context.WithoutCancel(ctx)
	var oldest []*redis.ZSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, w := range append(l.client, l.site) {
			if w != nil {
				p.ZRem(ctx, w.key, w.member)
			}
		}
		for _, w := range full {
			oldest = append(oldest, p.ZRangeWithScores(ctx, w.key, 0, 0))
		}
		return nil
	})
	if err != nil {
		return 0, false, err
	}
	var wait int64 = 1
	for i, w := range full {
		if z := oldest[i].Val(); len(z) > 0 {
			wait = max(wait, int64(z[0].Score)+w.window-nowMs)
		}
	}
	return time.Duration(wait) * time.Millisecond, false, nil
}

// signupGate takes the signup from the client's limit and a confirmation
// email from the site's (the gate), looks the address up, and reserves
// ids in partition p when this process has none left there, in one round
// trip. It returns the address's id, or an id reserved for it when it is
// new (fresh), how long the client must wait (then nothing was taken), and
// whether the site's slot was taken.
func (s *Store) signupGate(ctx context.Context, in signupInput, part newsletter.Partition) (id int64, fresh bool, wait time.Duration, siteTaken bool, err error) {
	var gate gateCounts
	var found *redis.StringCmd
	var reserved *redis.IntCmd
	reserve := !s.ids.has(part)
	nowMs := in.now.UnixMilli()
	err = s.group.do(ctx, func(p redis.Pipeliner) {
		gate = queueGate(ctx, p, in.limits, nowMs)
		found = p.HGet(ctx, keyIndex(part), AddressKey(in.addr))
		if reserve {
			reserved = p.IncrBy(ctx, keyNext(part), idBlock)
		}
	})
	if err != nil {
		return 0, false, 0, false, err
	}
	if reserved != nil && reserved.Err() == nil {
		s.ids.add(part, reserved.Val())
	}
	if wait, siteTaken, err = s.settleGate(ctx, in.limits, gate, nowMs); err != nil || wait > 0 {
		return 0, false, wait, false, err
	}
	if found.Err() != nil && !errors.Is(found.Err(), redis.Nil) {
		return 0, false, 0, false, s.giveBackSite(ctx, in.limits.site, siteTaken, found.Err())
	}
	if id, _ = strconv.ParseInt(found.Val(), 10, 64); id > 0 {
		return id, false, 0, siteTaken, nil
	}
	if id, err = s.ids.take(ctx, s.rdb, part); err != nil {
		return 0, false, 0, false, s.giveBackSite(ctx, in.limits.site, siteTaken, err)
	}
	return id, true, 0, siteTaken, nil
}
