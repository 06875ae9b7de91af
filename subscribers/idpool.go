package subscribers

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// idBlock is how many ids a process reserves in a partition at a time, so
// that a new address's signup knows its id before its one script runs.
const idBlock = 16

// idPool holds the ids this process reserved for new addresses and has not
// used yet, per partition. Ids a process reserved and never used (it
// stopped) are skipped for good: they leave a bit that is never set in
// the partition's audiences, nothing more.
type idPool struct {
	mu   sync.Mutex
	free [newsletter.Partitions][]int64 // n of ids n*64+p, last first
}

// has reports whether the pool holds an id of partition p.
func (ip *idPool) has(p newsletter.Partition) bool {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	return len(ip.free[p]) > 0
}

// add adds the block of idBlock ids of partition p whose last n is last
// (what INCRBY of the partition's next answered).
func (ip *idPool) add(p newsletter.Partition, last int64) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	for n := last; n > last-idBlock && n > 0; n-- {
		ip.free[p] = append(ip.free[p], n)
	}
}

// take returns an id of partition p for a new address, reserving a block
// first when the pool has none there.
func (ip *idPool) take(ctx context.Context, rdb redis.UniversalClient, p newsletter.Partition) (int64, error) {
	for {
		ip.mu.Lock()
		if k := len(ip.free[p]); k > 0 {
			n := ip.free[p][k-1]
			ip.free[p] = ip.free[p][:k-1]
			ip.mu.Unlock()
			return newsletter.SubscriberID(p, n), nil
		}
		ip.mu.Unlock()
		last, err := rdb.IncrBy(ctx, keyNext(p), idBlock).Result()
		if err != nil {
			return 0, err
		}
		ip.add(p, last)
	}
}

// giveBack returns an id that take handed out and a signup did not use.
func (ip *idPool) giveBack(p newsletter.Partition, id int64) {
	ip.mu.Lock()
	defer ip.mu.Unlock()
	ip.free[p] = append(ip.free[p], newsletter.BitOf(id))
}
