package redistest_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/internal/redistest"
)

func TestStartCluster(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	if !strings.HasPrefix(c.URL, "redis+cluster://127.0.0.1:") || strings.Count(c.URL, ",") != 5 {
		t.Fatalf("URL = %q, want six loopback seed nodes", c.URL)
	}
	if m, r := c.Masters(t), c.Replicas(t); len(m) != 3 || len(r) != 3 {
		t.Fatalf("%d masters and %d replicas, want 3 and 3", len(m), len(r))
	}
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr)
	}
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer cc.Close()
	for i := range 30 { // keys on every master
		k := "k" + strconv.Itoa(i)
		if err := cc.Set(ctx, k, i, 0).Err(); err != nil {
			t.Fatalf("SET %s: %v", k, err)
		}
	}
	n := c.Nodes[0]
	if n.Kill(); n.Alive() {
		t.Fatal("a killed node is alive")
	}
}

// TestSentinelLeasesAndFailover points the leases at a Sentinel set, as
// .ci/run does, then fails the master over: the test's failover client
// follows, and the lease is released on the new master.
func TestSentinelLeasesAndFailover(t *testing.T) { // not parallel: it sets URLVar
	s := redistest.StartSentinel(t)
	if want := "/mymaster/0"; !strings.HasPrefix(s.URL, "redis+sentinel://127.0.0.1:") || !strings.HasSuffix(s.URL, want) {
		t.Fatalf("URL = %q, want redis+sentinel://...%s", s.URL, want)
	}
	t.Setenv(redistest.URLVar, strings.TrimSuffix(s.URL, "/0")+"?sentinel_password=")
	u, db := redistest.URL(t), redistest.DB(t)
	if want := strings.TrimSuffix(s.URL, "0") + strconv.Itoa(db) + "?sentinel_password="; u != want || db < 1 || db > 15 {
		t.Fatalf("URL = %q, DB = %d; want %q and a database from 1 to 15", u, db, want)
	}
	c := redistest.Client(t)
	if err := c.Set(ctx, "who", "me", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Wait(ctx, 2, 5*time.Second).Result(); err != nil || n != 2 {
		t.Fatalf("WAIT = %d, %v; want both replicas", n, err)
	}
	opt := redistest.Options(t)
	old := s.Master(t)
	if opt.Addr != old.Addr || opt.DB != db {
		t.Fatalf("Options name %s db %d, want the master %s db %d", opt.Addr, opt.DB, old.Addr, db)
	}
	s.KillMaster(t)
	now := s.WaitForFailover(t, old, 30*time.Second)
	if now == old || !now.Alive() {
		t.Fatalf("master after failover %s, was %s", now.Addr, old.Addr)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got, err := c.Get(ctx, "who").Result()
		if err == nil && got == "me" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET who on the new master = %q, %v", got, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := redistest.ClientFor(t, u).Get(ctx, "who").Val(); got != "me" {
		t.Fatalf("ClientFor(URL) reads who = %q", got)
	}
}

// TestClusterLease points the leases at a Redis Cluster, as the third pass
// of .ci/run does: one test at a time holds the whole cluster, finds every
// master empty but for the lease, and leaves them empty.
func TestClusterLease(t *testing.T) { // not parallel: it sets URLVar
	c := redistest.StartCluster(t)
	masters := c.Masters(t)
	var addrs []string
	for _, n := range c.Nodes {
		addrs = append(addrs, n.Addr)
	}
	raw := redis.NewClusterClient(&redis.ClusterOptions{Addrs: addrs})
	defer raw.Close()
	for i := range 30 { // a crashed test's leftovers, on every master
		if err := raw.Set(ctx, "left"+strconv.Itoa(i), i, 0).Err(); err != nil {
			t.Fatal(err)
		}
	}
	keysOnMasters := func() (n int64) {
		for _, m := range masters {
			n += m.Client(t).DBSize(ctx).Val()
		}
		return n
	}
	url := c.URL + "/0"
	t.Setenv(redistest.URLVar, url)

	var second []string
	first := newFake(t, t.Name()+"/first")
	errs := first.run(func(f *fakeTB) {
		if u, db := redistest.URL(f), redistest.DB(f); u != url || db != 0 {
			f.Errorf("URL = %q, DB = %d; want the variable as it is and 0", u, db)
		}
		if n := keysOnMasters(); n != 1 {
			f.Errorf("the masters hold %d keys on claim, want only the lease", n)
		}
		rdb := redistest.Universal(f)
		if _, ok := rdb.(*redis.ClusterClient); !ok {
			f.Fatalf("Universal is a %T, want a cluster client", rdb)
		}
		for i := range 30 {
			if err := rdb.Set(ctx, "k"+strconv.Itoa(i), i, 0).Err(); err != nil {
				f.Fatalf("SET: %v", err)
			}
		}
		second = newFake(t, t.Name()+"/second").run(func(g *fakeTB) {
			redistest.DBFrom(g, nil, 300*time.Millisecond, 0, 0)
			g.Errorf("a second test leased the cluster while the first held it")
		})
	})
	if len(errs) != 0 {
		t.Fatalf("first test: %q", errs)
	}
	if len(second) != 1 || !strings.Contains(second[0], "stayed leased") || !strings.Contains(second[0], "/first") ||
		!strings.Contains(second[0], "-parallel 1") {
		t.Fatalf("second test: %q, want one error that the cluster stayed leased to the first, advising -parallel 1", second)
	}
	if n := keysOnMasters(); n != 0 {
		t.Fatalf("the masters hold %d keys after the test, want none (not even the lease)", n)
	}

	errs = newFake(t, t.Name()+"/one-server").run(func(f *fakeTB) {
		redistest.Client(f)
		f.Errorf("Client returned a client on one server of a cluster")
	})
	if len(errs) != 1 || !strings.Contains(errs[0], "UniversalFor") {
		t.Fatalf("Client on a cluster: %q, want one error pointing to UniversalFor", errs)
	}
}
