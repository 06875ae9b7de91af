package main

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"newsletter"
	"newsletter/internal/redistest"
)

// Keys of asynq's queues: the service's tasks wait and run under the hash
// tag of their queue, {confirm} for confirmation emails, {bulk} for digest
// batches (worker/tasks.go).
const (
	confirmQueueKey = "asynq:{confirm}:pending"
	bulkQueueKey    = "asynq:{bulk}:pending"
)

// clusterFailover kills, on a Redis Cluster, the master that serves the
// slot of one partition of the readers' data: the first partition whose
// master also holds the asynq queue of queueKey, so that the failover takes
// away a third of the readers' partitions and every task of the queue
// waiting or running, at once (as redis-cli assigns the slots, that master
// also holds the service's global state, {nl}). The master's replica takes
// its slots over; the other masters go on. With one replica per master,
// the new master has none left, so that with NEWSLETTER_REDIS_MIN_REPLICAS=1
// the service rightly refuses (503) the writes to its partitions until
// restore brings the killed node back, which rejoins as the new master's
// replica.
func clusterFailover(t *testing.T, c *redistest.Cluster, queueKey string) failover {
	t.Helper()
	queue := c.MasterOf(t, queueKey)
	slots := map[int]bool{}
	for _, s := range c.SlotsOf(t, queue) {
		slots[s] = true
	}
	var victim newsletter.Partition = -1
	var held []string
	for _, p := range newsletter.AllPartitions() {
		if slots[redistest.Slot(p.Tag())] {
			held = append(held, p.Tag())
			if victim < 0 {
				victim = p
			}
		}
	}
	if victim < 0 {
		t.Fatalf("the master %s of %s holds no partition of the readers' data", queue.Addr, queueKey)
	}
	var old, now *redistest.Node
	before := c.Masters(t)
	return failover{
		replicated: func() { c.WaitReplicated(t) },
		kill: func() func() string {
			lag := redistest.ReplicaLag(t, c.MasterOf(t, "nl:"+victim.Tag()+":"), c.Nodes)
			old = c.KillMasterOf(t, "nl:"+victim.Tag()+":") // the hash tag decides the slot
			killed := time.Now()
			return func() string {
				now = c.WaitForFailover(t, old, failoverLimit)
				global := ""
				if slots[redistest.Slot(newsletter.GlobalTag)] {
					global = ", " + newsletter.GlobalTag
				}
				return fmt.Sprintf("cluster master %s of partition %s (and of %s%s and %d partitions: %v) killed (its replica's lag just before, in bytes: %v); %s took over after %v",
					old.Addr, victim.Tag(), queueKey, global, len(held), held, lag, now.Addr, time.Since(killed).Round(time.Millisecond))
			}
		},
		others: func() string {
			var want, got []string
			for _, m := range before {
				if m != old {
					want = append(want, m.Addr)
				}
			}
			want = append(want, now.Addr)
			for _, m := range c.Masters(t) {
				got = append(got, m.Addr)
			}
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(want, got) {
				return fmt.Sprintf("the masters are %v, not %v", got, want)
			}
			return ""
		},
		restore: func() string {
			start := time.Now()
			old.Restart(t)
			c.WaitHealthy(t, 60*time.Second)
			if r := c.ReplicaOf(t, now); r != old {
				t.Fatalf("the restarted node %s did not become the replica of the new master %s", old.Addr, now.Addr)
			}
			return fmt.Sprintf("%s restarted and in sync as %s's replica after %v", old.Addr, now.Addr, time.Since(start).Round(time.Millisecond))
		},
	}
}

// TestSignupsSurviveAClusterFailover kills, on a Redis Cluster, the master
// of a partition of the readers' data (and of the confirmation emails'
// queue) while signups arrive, with NEWSLETTER_REDIS_MIN_REPLICAS=1: every
// signup answered 202 is there after the failover and gets its
// confirmation email (signupsSurviveFailover).
func TestSignupsSurviveAClusterFailover(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	h := failoverHarness(t, c.URL)
	signupsSurviveFailover(t, h, clusterFailover(t, c, confirmQueueKey))
}

// TestDigestSurvivesAClusterFailover kills, on a Redis Cluster, the master
// of a third of the readers' partitions (and of the digest batches' queue)
// halfway through a digest to 20,000 readers: it ends sent, nobody
// missing, with no more duplicates than the failover justifies
// (digestSurvivesFailover).
func TestDigestSurvivesAClusterFailover(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	h := failoverHarness(t, c.URL)
	digestSurvivesFailover(t, h, clusterFailover(t, c, bulkQueueKey), 20000)
}
