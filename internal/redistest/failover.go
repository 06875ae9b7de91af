package redistest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Failovers of a Cluster: a test kills the master that holds a slot (of a
// key it names) and waits for the master's replica to take its slots over.
// A killed master is not started again: its slots' new master has no
// replica left.

// Restart starts a node that was killed again, on its ports, in its
// folder and with its arguments, and waits until it answers PING. A
// cluster node keeps its identity (nodes.conf) and rejoins its cluster: a
// master whose slots were failed over becomes a replica of their new
// master (Cluster.WaitHealthy waits for it to be in sync). Its log starts
// over. The cleanup that kills the node kills the new process.
func (n *Node) Restart(tb testing.TB) {
	tb.Helper()
	if n.Alive() {
		tb.Fatalf("redistest: Restart: %s still runs", n.Addr)
	}
	again, err := runNode(n.Dir, n.Port, n.args)
	if err != nil {
		tb.Fatalf("redistest: restart %s: %v", n.Addr, err)
	}
	n.cmd, n.exited, n.kill = again.cmd, again.exited, again.kill
}

// MasterOfSlot returns the running master that serves slot now: the node
// that a running node's CLUSTER SLOTS names for it, which answers ROLE as a
// master and names itself for the slot too.
func (c *Cluster) MasterOfSlot(tb testing.TB, slot int) *Node {
	tb.Helper()
	n, err := c.masterOfSlot(context.Background(), slot)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return n
}

// MasterOf returns the running master that serves key's slot now.
func (c *Cluster) MasterOf(tb testing.TB, key string) *Node {
	tb.Helper()
	return c.MasterOfSlot(tb, Slot(key))
}

// KillMasterOfSlot kills (SIGKILL) the master that serves slot and returns
// it; WaitForFailover then waits for its replica to take over.
func (c *Cluster) KillMasterOfSlot(tb testing.TB, slot int) *Node {
	tb.Helper()
	m := c.MasterOfSlot(tb, slot)
	c.mu.Lock()
	if c.killedSlot == nil {
		c.killedSlot = map[*Node]int{}
	}
	c.killedSlot[m] = slot
	c.mu.Unlock()
	m.Kill()
	return m
}

// KillMasterOf kills (SIGKILL) the master that serves key's slot and
// returns it.
func (c *Cluster) KillMasterOf(tb testing.TB, key string) *Node {
	tb.Helper()
	return c.KillMasterOfSlot(tb, Slot(key))
}

// SlotsOf returns the slots that master n serves now, as n itself says.
func (c *Cluster) SlotsOf(tb testing.TB, n *Node) []int {
	tb.Helper()
	slots, err := clusterSlots(context.Background(), n.Addr)
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	var out []int
	for _, r := range slots {
		if len(r.Nodes) > 0 && r.Nodes[0].Addr == n.Addr {
			for s := r.Start; s <= r.End; s++ {
				out = append(out, s)
			}
		}
	}
	return out
}

// WaitForFailover waits up to limit until old, a master that
// KillMasterOfSlot killed, has been replaced: a running node that answers
// as a master serves the slot old was killed for, and every running node
// reports cluster_state:ok, every slot served (cluster_slots_ok:16384) and,
// in its CLUSTER SLOTS, every one of the 16384 slots held by a running
// node other than old. It returns the new master of old's slot.
func (c *Cluster) WaitForFailover(tb testing.TB, old *Node, limit time.Duration) *Node {
	tb.Helper()
	c.mu.Lock()
	slot, ok := c.killedSlot[old]
	c.mu.Unlock()
	if !ok {
		tb.Fatalf("redistest: WaitForFailover: %s was not killed by KillMasterOf or KillMasterOfSlot", old.Addr)
	}
	ctx := context.Background()
	var now *Node
	waitFor(tb, "cluster failover of "+old.Addr, limit, c.Nodes, func() error {
		for _, n := range c.Nodes {
			if !n.Alive() {
				continue
			}
			if err := c.servesEverySlot(ctx, n, old); err != nil {
				return err
			}
		}
		m, err := c.masterOfSlot(ctx, slot)
		if err != nil {
			return err
		}
		if m == old {
			return fmt.Errorf("slot %d is still %s's", slot, old.Addr)
		}
		now = m
		return nil
	})
	return now
}

// servesEverySlot checks that node n reports cluster_state:ok with every
// slot served, and that its CLUSTER SLOTS gives each of the 16384 slots to
// a running node other than old.
func (c *Cluster) servesEverySlot(ctx context.Context, n, old *Node) error {
	rc := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
	defer rc.Close()
	info, err := rc.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Errorf("%s: %w", n.Addr, err)
	}
	if infoValue(info, "cluster_state") != "ok" || infoValue(info, "cluster_slots_ok") != "16384" {
		return fmt.Errorf("%s: %s", n.Addr, firstLines(info, 3))
	}
	slots, err := rc.ClusterSlots(ctx).Result()
	if err != nil {
		return fmt.Errorf("CLUSTER SLOTS of %s: %w", n.Addr, err)
	}
	covered := 0
	for _, r := range slots {
		if len(r.Nodes) == 0 {
			return fmt.Errorf("%s: slots %d-%d have no master", n.Addr, r.Start, r.End)
		}
		m := c.node(r.Nodes[0].Addr)
		switch {
		case m == nil:
			return fmt.Errorf("%s gives slots %d-%d to %s, none of the cluster's nodes", n.Addr, r.Start, r.End, r.Nodes[0].Addr)
		case m == old || !m.Alive():
			return fmt.Errorf("%s still gives slots %d-%d to %s, which is down", n.Addr, r.Start, r.End, m.Addr)
		}
		covered += r.End - r.Start + 1
	}
	if covered != 16384 {
		return fmt.Errorf("%s's CLUSTER SLOTS covers %d slots, not 16384", n.Addr, covered)
	}
	return nil
}

// WaitReplicated waits until every running replica has every write its
// master had when it was called, so that a failover loses none of them.
func (c *Cluster) WaitReplicated(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	offsets := map[int]int64{} // master's port: its offset
	for _, m := range c.Masters(tb) {
		info, err := infoOf(ctx, m.Addr, "replication")
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		offsets[m.Port], _ = strconv.ParseInt(infoValue(info, "master_repl_offset"), 10, 64)
	}
	waitFor(tb, "replicas in sync", 10*time.Second, c.Nodes, func() error {
		for _, n := range c.Nodes {
			if !n.Alive() {
				continue
			}
			info, err := infoOf(ctx, n.Addr, "replication")
			if err != nil {
				return err
			}
			if infoValue(info, "role") != "slave" {
				continue
			}
			port, _ := strconv.Atoi(infoValue(info, "master_port"))
			want, ok := offsets[port]
			if !ok {
				return fmt.Errorf("replica %s follows port %d, which is no master", n.Addr, port)
			}
			if got, _ := strconv.ParseInt(infoValue(info, "slave_repl_offset"), 10, 64); got < want {
				return fmt.Errorf("replica %s is at offset %d, its master at %d", n.Addr, got, want)
			}
		}
		return nil
	})
}

// masterOfSlot returns the running node that the first running node's
// CLUSTER SLOTS names master of slot, once that node answers ROLE as a
// master and its own CLUSTER SLOTS names itself for slot.
func (c *Cluster) masterOfSlot(ctx context.Context, slot int) (*Node, error) {
	if slot < 0 || slot >= 16384 {
		return nil, fmt.Errorf("slot %d is out of range", slot)
	}
	var asked *Node
	for _, n := range c.Nodes {
		if n.Alive() {
			asked = n
			break
		}
	}
	if asked == nil {
		return nil, errors.New("no node of the cluster runs")
	}
	named, err := slotMaster(ctx, asked.Addr, slot)
	if err != nil {
		return nil, err
	}
	m := c.node(named)
	switch {
	case m == nil:
		return nil, fmt.Errorf("%s names %s, none of the cluster's nodes, master of slot %d", asked.Addr, named, slot)
	case !m.Alive():
		return nil, fmt.Errorf("%s names %s, which is down, master of slot %d", asked.Addr, named, slot)
	}
	if role, err := roleOf(ctx, m.Addr); err != nil || role != "master" {
		return nil, fmt.Errorf("%s names %s master of slot %d, whose role is %q (%v)", asked.Addr, m.Addr, slot, role, err)
	}
	if self, err := slotMaster(ctx, m.Addr, slot); err != nil || self != m.Addr {
		return nil, fmt.Errorf("%s names %s master of slot %d, which names %q (%v)", asked.Addr, m.Addr, slot, self, err)
	}
	return m, nil
}

// slotMaster returns the address of the master of slot in the CLUSTER
// SLOTS of the node at addr.
func slotMaster(ctx context.Context, addr string, slot int) (string, error) {
	slots, err := clusterSlots(ctx, addr)
	if err != nil {
		return "", err
	}
	for _, r := range slots {
		if r.Start <= slot && slot <= r.End && len(r.Nodes) > 0 {
			return r.Nodes[0].Addr, nil
		}
	}
	return "", fmt.Errorf("%s names no master of slot %d", addr, slot)
}

func clusterSlots(ctx context.Context, addr string) ([]redis.ClusterSlot, error) {
	rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rc.Close()
	slots, err := rc.ClusterSlots(ctx).Result()
	if err != nil {
		return nil, fmt.Errorf("CLUSTER SLOTS of %s: %w", addr, err)
	}
	return slots, nil
}

// infoOf returns the INFO section of the server at addr.
func infoOf(ctx context.Context, addr, section string) (string, error) {
	rc := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer rc.Close()
	info, err := rc.Info(ctx, section).Result()
	if err != nil {
		return "", fmt.Errorf("INFO %s of %s: %w", section, addr, err)
	}
	return info, nil
}

// node returns the cluster's node at addr (host:port), or nil.
func (c *Cluster) node(addr string) *Node {
	for _, n := range c.Nodes {
		if n.Addr == addr {
			return n
		}
	}
	return nil
}

// ReplicaLag returns, for each running replica of master, how many bytes
// of master's replication stream it has not processed yet: master's
// offset less the replica's own, read one after the other (so a replica
// may seem a little ahead: 0 then). What a replica lacks when its master
// dies is lost in a failover to it.
func ReplicaLag(tb testing.TB, master *Node, nodes []*Node) map[string]int64 {
	tb.Helper()
	ctx := context.Background()
	info, err := infoOf(ctx, master.Addr, "replication")
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	offset, _ := strconv.ParseInt(infoValue(info, "master_repl_offset"), 10, 64)
	lag := map[string]int64{}
	for _, n := range nodes {
		if n == master || !n.Alive() {
			continue
		}
		info, err := infoOf(ctx, n.Addr, "replication")
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		if infoValue(info, "role") != "slave" || infoValue(info, "master_port") != strconv.Itoa(master.Port) {
			continue
		}
		got, _ := strconv.ParseInt(infoValue(info, "slave_repl_offset"), 10, 64)
		lag[n.Addr] = max(offset-got, 0)
	}
	return lag
}

// Switches returns the master switches that the sentinels logged so far,
// in order, each as "old -> new" (host:port): one per failover. More than
// the failovers a test caused means the sentinels took a new master for
// down too (on a loaded machine, a master that misses their pings for
// down-after-milliseconds), and whatever it had not passed on to the
// replica that took over from it is lost.
func (s *Sentinel) Switches() []string {
	var longest []string
	for _, n := range s.Sentinels {
		b, _ := os.ReadFile(filepath.Join(n.Dir, "redis.log"))
		var switches []string
		for _, line := range strings.Split(string(b), "\n") {
			_, event, ok := strings.Cut(line, "+switch-master "+s.MasterName+" ")
			if f := strings.Fields(event); ok && len(f) == 4 {
				switches = append(switches, f[0]+":"+f[1]+" -> "+f[2]+":"+f[3])
			}
		}
		if len(switches) > len(longest) {
			longest = switches
		}
	}
	return longest
}
