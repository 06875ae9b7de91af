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
