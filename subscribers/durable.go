package subscribers

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// replicaWait is how long a write that readers were promised waits for
// MinReplicas replicas before the answer says it is not safe yet.
const replicaWait = 100 * time.Millisecond

var errUnavailable = newsletter.Errorf(newsletter.EUNAVAILABLE,
	"The service could not store this safely just now. Please try again; trying again is safe.")

// keyBarrier is a key of partition p that a durability barrier writes, so
// that its WAIT covers every earlier write to the partition's master.
func keyBarrier(p newsletter.Partition) string { return partitionKey(p, "barrier") }

// durable returns nil once MinReplicas replicas hold every write made so
// far to the master of partition p, and errUnavailable when they do not
// within replicaWait. Replication is one ordered stream per master, so a
// write of the barrier key followed by WAIT on the same connection covers
// the writes that other connections made before it.
func (s *Store) durable(ctx context.Context, p newsletter.Partition) error {
	if s.MinReplicas <= 0 {
		return nil
	}
	key := keyBarrier(p)
	node, err := s.masterFor(ctx, key)
	if err != nil {
		return err
	}
	var wait *redis.Cmd
	_, err = node.Pipelined(ctx, func(pl redis.Pipeliner) error {
		pl.Set(ctx, key, strconv.FormatInt(time.Now().UnixMilli(), 10), time.Minute)
		wait = pl.Do(ctx, "WAIT", s.MinReplicas, replicaWait.Milliseconds())
		return nil
	})
	if err != nil {
		return fmt.Errorf("subscribers: wait for replicas: %w", err)
	}
	if n, _ := wait.Int64(); n < int64(s.MinReplicas) {
		return errUnavailable
	}
	return nil
}

// masterFor returns a client whose pipelines go to one connection of the
// master that holds key.
func (s *Store) masterFor(ctx context.Context, key string) (redis.Cmdable, error) {
	if c, ok := s.rdb.(*redis.ClusterClient); ok {
		return c.MasterForKey(ctx, key)
	}
	return s.rdb, nil
}
