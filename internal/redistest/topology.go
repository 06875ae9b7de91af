package redistest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Topologies of real redis-server processes on loopback, for tests of
// what a Redis Cluster or a Sentinel failover does to the service. Each
// process runs in a temporary folder of its own, on free ports, keeps
// nothing on disk, and is killed at the test's cleanup. The tests skip
// where redis-server (or, for a cluster, redis-cli) is not installed.

// Timings of the topologies: short, so that a failover takes seconds, but
// not so short that a node that a loaded machine starves of the CPU for a
// second or two is taken for down: a failover nobody asked for loses what
// the master had not passed on to its replicas yet.
const (
	clusterNodeTimeout    = 3 * time.Second // cluster-node-timeout
	sentinelDownAfter     = 3 * time.Second // down-after-milliseconds
	sentinelFailoverLimit = 3 * time.Second // failover-timeout
	topologyStartLimit    = 60 * time.Second
)

// Node is a redis-server process (a data node or a sentinel) that a test
// started.
type Node struct {
	Addr string // 127.0.0.1:port
	Port int
	Dir  string // its working folder, with its log (redis.log)

	args   []string // redis-server's arguments, for Restart
	cmd    *exec.Cmd
	exited chan struct{} // closed once the process has exited
	kill   *sync.Once
}

// Kill kills the process (SIGKILL, as a crash or a lost machine would)
// and waits for it to exit. Later calls do nothing.
func (n *Node) Kill() {
	n.kill.Do(func() {
		n.cmd.Process.Kill()
		<-n.exited
	})
}

// Alive reports whether the process still runs.
func (n *Node) Alive() bool {
	select {
	case <-n.exited:
		return false
	default:
		return true
	}
}

// Client returns a client on the node (database 0), closed at cleanup.
func (n *Node) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
	tb.Cleanup(func() { c.Close() })
	return c
}

// log returns the end of the node's log, for a failure's message.
func (n *Node) log() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "redis.log"))
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}

// needRedisServer skips tb where the redis-server binaries are missing.
func needRedisServer(tb testing.TB, names ...string) {
	tb.Helper()
	for _, name := range append([]string{"redis-server"}, names...) {
		if _, err := exec.LookPath(name); err != nil {
			tb.Skipf("redistest: %s is not installed", name)
		}
	}
}

// startNode starts redis-server in a folder of its own on a free port
// (and a second free port for a cluster's bus), with the arguments args
// gives for them, and waits until it answers PING. It tries other
// ports when the chosen ones were taken meanwhile.
func startNode(tb testing.TB, name string, args func(dir string, port, busPort int) []string) *Node {
	tb.Helper()
	dir := filepath.Join(tb.TempDir(), name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		tb.Fatal(err)
	}
	var lastErr error
	for range 5 {
		ports, err := freePorts(2)
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		n, err := runNode(dir, ports[0], args(dir, ports[0], ports[1]))
		if err == nil {
			tb.Cleanup(n.Kill)
			return n
		}
		lastErr = err
		if !strings.Contains(err.Error(), "in use") {
			break
		}
	}
	tb.Fatalf("redistest: start %s: %v", name, lastErr)
	return nil
}

// runNode runs redis-server with args and waits up to 10 s for it to
// answer on port.
func runNode(dir string, port int, args []string) (*Node, error) {
	n := &Node{Addr: "127.0.0.1:" + strconv.Itoa(port), Port: port, Dir: dir, args: args, exited: make(chan struct{}), kill: new(sync.Once)}
	os.Remove(filepath.Join(dir, "redis.log"))
	n.cmd = exec.Command("redis-server", args...)
	n.cmd.Dir = dir
	var stderr bytes.Buffer
	n.cmd.Stdout, n.cmd.Stderr = &stderr, &stderr
	setDeathSignal(n.cmd)
	if err := n.cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		n.cmd.Wait()
		close(n.exited)
	}()
	c := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: time.Second})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !n.Alive() {
			return nil, fmt.Errorf("redis-server exited: %s%s", stderr.String(), n.log())
		}
		if c.Ping(context.Background()).Err() == nil {
			return n, nil
		}
	}
	n.Kill()
	return nil, fmt.Errorf("redis-server did not answer on %s within 10 s: %s", n.Addr, n.log())
}

// freePorts returns n loopback TCP ports that were free a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// dataNodeArgs are the arguments every data node runs with: loopback,
// nothing on disk.
func dataNodeArgs(dir string, port int, more ...string) []string {
	return append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--logfile", "redis.log", "--save", "", "--appendonly", "no"}, more...)
}

// waitFor polls check every 50 ms until it returns nil, failing tb with
// its last error and the logs of nodes after limit.
func waitFor(tb testing.TB, what string, limit time.Duration, nodes []*Node, check func() error) {
	tb.Helper()
	var err error
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err = check(); err == nil {
			return
		}
	}
	var logs strings.Builder
	for _, n := range nodes {
		fmt.Fprintf(&logs, "\n--- %s (%s):\n%s", filepath.Base(n.Dir), n.Addr, n.log())
	}
	tb.Fatalf("redistest: %s: not within %v: %v%s", what, limit, err, logs.String())
}

// Cluster is a Redis Cluster of three masters, each with one replica.
type Cluster struct {
	URL   string  // redis+cluster://127.0.0.1:P1,...,127.0.0.1:P6
	Nodes []*Node // six; which are masters changes with failovers (see Masters)

	mu         sync.Mutex
	killedSlot map[*Node]int // a master that KillMasterOfSlot killed: the slot it was killed for
}

// StartCluster starts a Redis Cluster of 3 masters and 3 replicas on
// loopback and waits until every node reports cluster_state:ok and every
// replica is in sync with its master. It takes a few seconds.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	needRedisServer(tb, "redis-cli")
	c := &Cluster{}
	for i := range 6 {
		c.Nodes = append(c.Nodes, startNode(tb, fmt.Sprintf("cluster-%d", i+1), func(dir string, port, bus int) []string {
			return dataNodeArgs(dir, port, "--cluster-enabled", "yes", "--cluster-port", strconv.Itoa(bus),
				"--cluster-config-file", "nodes.conf", "--cluster-node-timeout", strconv.Itoa(int(clusterNodeTimeout.Milliseconds())))
		}))
	}
	args := []string{"--cluster", "create"}
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr)
	}
	args = append(append(args, addrs...), "--cluster-replicas", "1", "--cluster-yes")
	cmd := exec.Command("redis-cli", args...)
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("redistest: redis-cli --cluster create: %v\n%s", err, out)
	}
	c.URL = "redis+cluster://" + strings.Join(addrs, ",")
	c.WaitHealthy(tb, topologyStartLimit)
	return c
}

// WaitHealthy waits until every running node reports cluster_state:ok with
// all slots served, and every running replica's link to its master is up.
func (c *Cluster) WaitHealthy(tb testing.TB, limit time.Duration) {
	tb.Helper()
	ctx := context.Background()
	clients := map[*Node]*redis.Client{}
	for _, n := range c.Nodes {
		if n.Alive() {
			clients[n] = n.Client(tb)
		}
	}
	waitFor(tb, "cluster healthy", limit, c.Nodes, func() error {
		for n, rc := range clients {
			info, err := rc.ClusterInfo(ctx).Result()
			if err != nil {
				return fmt.Errorf("%s: %w", n.Addr, err)
			}
			if !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_slots_ok:16384") {
				return fmt.Errorf("%s: %s", n.Addr, firstLines(info, 3))
			}
			repl, err := rc.Info(ctx, "replication").Result()
			if err != nil {
				return fmt.Errorf("%s: %w", n.Addr, err)
			}
			if strings.Contains(repl, "role:slave") && !strings.Contains(repl, "master_link_status:up") {
				return fmt.Errorf("%s: replica not in sync with its master", n.Addr)
			}
		}
		return nil
	})
}

// Masters returns the nodes that serve slots as masters now, as the first
// running node sees it.
func (c *Cluster) Masters(tb testing.TB) []*Node {
	tb.Helper()
	return c.withRole(tb, "master")
}

// Replicas returns the running nodes that are replicas now.
func (c *Cluster) Replicas(tb testing.TB) []*Node {
	tb.Helper()
	return c.withRole(tb, "slave")
}

func (c *Cluster) withRole(tb testing.TB, role string) []*Node {
	tb.Helper()
	var out []*Node
	for _, n := range c.Nodes {
		if !n.Alive() {
			continue
		}
		r, err := roleOf(context.Background(), n.Addr)
		if err != nil {
			tb.Fatalf("redistest: %v", err)
		}
		if r == role {
			out = append(out, n)
		}
	}
	return out
}

// Sentinel is a Redis master with two replicas, watched by three
// sentinels that fail over to a replica when the master is down for 3
// seconds.
type Sentinel struct {
	URL        string  // redis+sentinel://127.0.0.1:S1,127.0.0.1:S2,127.0.0.1:S3/mymaster/0
	MasterName string  // mymaster
	Servers    []*Node // the data nodes: the first master, then its replicas
	Sentinels  []*Node
}

// StartSentinel starts, on loopback, a master, two replicas of it and
// three sentinels (quorum 2) monitoring it as "mymaster", and waits until
// the replicas are in sync and every sentinel knows the two replicas and
// the two other sentinels. It takes a few seconds.
func StartSentinel(tb testing.TB) *Sentinel {
	tb.Helper()
	needRedisServer(tb)
	s := &Sentinel{MasterName: "mymaster"}
	master := startNode(tb, "master", func(dir string, port, _ int) []string { return dataNodeArgs(dir, port) })
	s.Servers = append(s.Servers, master)
	for i := range 2 {
		s.Servers = append(s.Servers, startNode(tb, fmt.Sprintf("replica-%d", i+1), func(dir string, port, _ int) []string {
			return dataNodeArgs(dir, port, "--replicaof", "127.0.0.1", strconv.Itoa(master.Port))
		}))
	}
	var addrs []string
	for i := range 3 {
		n := startNode(tb, fmt.Sprintf("sentinel-%d", i+1), func(dir string, port, _ int) []string {
			conf := filepath.Join(dir, "sentinel.conf")
			text := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %q\nlogfile \"redis.log\"\n"+
				"sentinel monitor %[3]s 127.0.0.1 %[4]d 2\nsentinel down-after-milliseconds %[3]s %[5]d\n"+
				"sentinel failover-timeout %[3]s %[6]d\nsentinel parallel-syncs %[3]s 2\n",
				port, dir, s.MasterName, master.Port, sentinelDownAfter.Milliseconds(), sentinelFailoverLimit.Milliseconds())
			if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
				tb.Fatal(err)
			}
			return []string{conf, "--sentinel"}
		})
		s.Sentinels = append(s.Sentinels, n)
		addrs = append(addrs, n.Addr)
	}
	s.URL = "redis+sentinel://" + strings.Join(addrs, ",") + "/" + s.MasterName + "/0"
	s.WaitHealthy(tb, topologyStartLimit)
	return s
}

// WaitHealthy waits until every running sentinel names the same running
// master, which answers as one, and knows every other running data node
// as its replica and every other running sentinel; and until the running
// replicas are in sync.
func (s *Sentinel) WaitHealthy(tb testing.TB, limit time.Duration) {
	tb.Helper()
	ctx := context.Background()
	waitFor(tb, "Sentinel set healthy", limit, s.Sentinels, func() error {
		master, err := s.master(ctx)
		if err != nil {
			return err
		}
		var data, sentinels int
		for _, n := range s.Servers {
			if n.Alive() {
				data++
			}
		}
		for _, n := range s.Sentinels {
			if n.Alive() {
				sentinels++
			}
		}
		for _, n := range s.Sentinels {
			if !n.Alive() {
				continue
			}
			sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
			m, err := sc.Master(ctx, s.MasterName).Result()
			sc.Close()
			if err != nil {
				return fmt.Errorf("sentinel %s: %w", n.Addr, err)
			}
			if m["ip"]+":"+m["port"] != master.Addr || m["num-slaves"] != strconv.Itoa(data-1) ||
				m["num-other-sentinels"] != strconv.Itoa(sentinels-1) || strings.Contains(m["flags"], "down") {
				return fmt.Errorf("sentinel %s sees master %s:%s (%s) with %s replicas and %s other sentinels",
					n.Addr, m["ip"], m["port"], m["flags"], m["num-slaves"], m["num-other-sentinels"])
			}
		}
		for _, n := range s.Servers {
			if !n.Alive() || n == master {
				continue
			}
			rc := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
			repl, err := rc.Info(ctx, "replication").Result()
			rc.Close()
			if err != nil {
				return err
			}
			if !strings.Contains(repl, "master_port:"+strconv.Itoa(master.Port)) || !strings.Contains(repl, "master_link_status:up") {
				return fmt.Errorf("replica %s is not in sync with master %s", n.Addr, master.Addr)
			}
		}
		return nil
	})
}

// Master returns the data node that the sentinels name master now.
func (s *Sentinel) Master(tb testing.TB) *Node {
	tb.Helper()
	m, err := s.master(context.Background())
	if err != nil {
		tb.Fatalf("redistest: %v", err)
	}
	return m
}

// master returns the running data node that every running sentinel names
// master, and that answers ROLE as one.
func (s *Sentinel) master(ctx context.Context) (*Node, error) {
	named := ""
	for _, n := range s.Sentinels {
		if !n.Alive() {
			continue
		}
		sc := redis.NewSentinelClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
		addr, err := sc.GetMasterAddrByName(ctx, s.MasterName).Result()
		sc.Close()
		if err != nil {
			return nil, fmt.Errorf("sentinel %s: %w", n.Addr, err)
		}
		if a := net.JoinHostPort(addr[0], addr[1]); named == "" {
			named = a
		} else if a != named {
			return nil, fmt.Errorf("the sentinels disagree on the master: %s and %s", named, a)
		}
	}
	for _, n := range s.Servers {
		if n.Addr != named {
			continue
		}
		if !n.Alive() {
			return nil, fmt.Errorf("the sentinels name %s, which is down", named)
		}
		if role, err := roleOf(ctx, n.Addr); err != nil || role != "master" {
			return nil, fmt.Errorf("the sentinels name %s, whose role is %q (%v)", named, role, err)
		}
		return n, nil
	}
	return nil, fmt.Errorf("the sentinels name %q, which is none of the data nodes", named)
}

// KillMaster kills the current master (SIGKILL) and returns it.
func (s *Sentinel) KillMaster(tb testing.TB) *Node {
	tb.Helper()
	m := s.Master(tb)
	m.Kill()
	return m
}

// WaitForFailover waits up to limit until the sentinels name a master
// other than old, which answers as one, and returns it.
func (s *Sentinel) WaitForFailover(tb testing.TB, old *Node, limit time.Duration) *Node {
	tb.Helper()
	var m *Node
	waitFor(tb, "Sentinel failover", limit, s.Sentinels, func() error {
		var err error
		if m, err = s.master(context.Background()); err != nil {
			return err
		}
		if m == old {
			return errors.New("the sentinels still name the old master")
		}
		return nil
	})
	return m
}

func firstLines(s string, n int) string {
	lines := strings.SplitN(strings.ReplaceAll(s, "\r", ""), "\n", n+1)
	return strings.Join(lines[:min(n, len(lines))], " ")
}

// roleOf returns the ROLE of the server at addr: master, slave or sentinel.
func roleOf(ctx context.Context, addr string) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1})
	defer c.Close()
	r, err := c.Do(ctx, "ROLE").Slice()
	if err != nil || len(r) == 0 {
		return "", fmt.Errorf("ROLE of %s: %v", addr, err)
	}
	role, _ := r[0].(string)
	return role, nil
}

// ReplicaOf returns a running replica of master.
func (c *Cluster) ReplicaOf(tb testing.TB, master *Node) *Node {
	tb.Helper()
	for _, n := range c.Replicas(tb) {
		if masterPort(tb, n) == master.Port {
			return n
		}
	}
	tb.Fatalf("redistest: %s has no running replica", master.Addr)
	return nil
}

// WaitReplicated waits until every running replica has every write the
// master had when it was called, so that a failover loses none of them.
func (s *Sentinel) WaitReplicated(tb testing.TB) {
	tb.Helper()
	ctx := context.Background()
	m := s.Master(tb)
	mc := redis.NewClient(&redis.Options{Addr: m.Addr, MaxRetries: -1})
	defer mc.Close()
	info, err := mc.Info(ctx, "replication").Result()
	if err != nil {
		tb.Fatalf("redistest: INFO of the master %s: %v", m.Addr, err)
	}
	offset, _ := strconv.ParseInt(infoValue(info, "master_repl_offset"), 10, 64)
	waitFor(tb, "replicas in sync", 10*time.Second, nil, func() error {
		for _, n := range s.Servers {
			if n == m || !n.Alive() {
				continue
			}
			rc := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
			info, err := rc.Info(ctx, "replication").Result()
			rc.Close()
			if err != nil {
				return err
			}
			if got, _ := strconv.ParseInt(infoValue(info, "slave_repl_offset"), 10, 64); got < offset {
				return fmt.Errorf("replica %s is at offset %d, the master at %d", n.Addr, got, offset)
			}
		}
		return nil
	})
}

// masterPort returns the port of the master that replica n follows.
func masterPort(tb testing.TB, n *Node) int {
	tb.Helper()
	rc := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1})
	defer rc.Close()
	info, err := rc.Info(context.Background(), "replication").Result()
	if err != nil {
		tb.Fatalf("redistest: INFO of %s: %v", n.Addr, err)
	}
	p, _ := strconv.Atoi(infoValue(info, "master_port"))
	return p
}

// infoValue returns the value of name in the text of INFO, or "".
func infoValue(info, name string) string {
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), name+":"); ok {
			return v
		}
	}
	return ""
}
