package subscribers

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// idBlock is how many ids a process reserves in a partition at a time, so
// that a new address's signup knows its id before its one script runs.
const idBlock = 64

// idLow is how few ids a partition may have left in the pool before a
// signup there reserves the next block, in the round trip it makes anyway,
// so that the signups after it do not run out and wait for one of their
// own.
const idLow = idBlock / 2

// idPool holds the ids this process reserved for new addresses and has not
// used yet, per partition. Ids a process reserved and never used (it
// stopped) are skipped for good: they leave a bit that is never set in
// the partition's audiences, nothing more.
type idPool struct {
	mu        sync.Mutex
	free      [newsletter.Partitions][]int64 // n of ids n*64+p, last first
	reserving [newsletter.Partitions]bool    // a signup is reserving a block there
}

// next takes an id of partition p from the pool (ok false: it has none),
// and reports whether the caller should reserve the next block (reserve):
// the pool runs low there and nobody is reserving one yet. A caller told
// to reserve calls add with the block, or reserveFailed.
func (ip *idPool) next(p newsletter.Partition) (id int64, ok, reserve bool) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	id, ok = ip.pop(p)
	if len(ip.free[p]) < idLow && !ip.reserving[p] {
		ip.reserving[p], reserve = true, true
	}
	return id, ok, reserve
}

// pop takes the next id of partition p from the pool, its lock held; ok
// is false when the pool has none there.
func (ip *idPool) pop(p newsletter.Partition) (id int64, ok bool) {
	k := len(ip.free[p])
	if k == 0 {
		return 0, false
	}
	n := ip.free[p][k-1]
	ip.free[p] = ip.free[p][:k-1]
	return newsletter.SubscriberID(p, n), true
}

// add adds the block of idBlock ids of partition p whose last n is last
// (what INCRBY of the partition's next answered). The new ids are taken
// after those the pool holds.
func (ip *idPool) add(p newsletter.Partition, last int64) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.reserving[p] = false
	ip.addBlock(p, last)
}

// addBlock adds the block to the pool, its lock held, leaving a
// reservation in flight as it is.
func (ip *idPool) addBlock(p newsletter.Partition, last int64) {
	block := make([]int64, 0, idBlock+len(ip.free[p]))
	for n := last; n > last-idBlock && n > 0; n-- {
		block = append(block, n)
	}
	ip.free[p] = append(block, ip.free[p]...)
}

// reserveFailed notes that the reservation next asked for in partition p
// did not come back, so that the next signup there tries again.
func (ip *idPool) reserveFailed(p newsletter.Partition) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.reserving[p] = false
}

// take returns an id of partition p for a new address, reserving a block
// at once when the pool has none there.
func (ip *idPool) take(ctx context.Context, rdb redis.UniversalClient, p newsletter.Partition) (int64, error) {
	for {
		ip.mu.Lock()
		id, ok := ip.pop(p)
		ip.mu.Unlock()
		if ok {
			return id, nil
		}
		last, err := rdb.IncrBy(ctx, keyNext(p), idBlock).Result()
		if err != nil {
			return 0, err
		}
		ip.mu.Lock()
		ip.addBlock(p, last)
		ip.mu.Unlock()
	}
}

// giveBack returns an id that next or take handed out and a signup did
// not use.
func (ip *idPool) giveBack(p newsletter.Partition, id int64) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.free[p] = append(ip.free[p], newsletter.BitOf(id))
}
