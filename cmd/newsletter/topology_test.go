package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

// readyz returns the status of /readyz and the reason it gives.
func (h *harness) readyz() (int, string) {
	h.t.Helper()
	code, body := h.do("GET", "/readyz", "", "")
	var answer struct {
		Status string `json:"status"`
		Reason string `json:"reason"`
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil {
		h.t.Fatalf("/readyz = %d %q: %v", code, body, err)
	}
	if (code == 200) != (answer.Status == "ok") {
		h.t.Fatalf("/readyz = %d %s", code, body)
	}
	return code, answer.Reason
}

// waitReadyz polls /readyz until it answers want, and returns the reason
// of its last answer.
func (h *harness) waitReadyz(want int, limit time.Duration) string {
	h.t.Helper()
	deadline := time.Now().Add(limit)
	for {
		code, reason := h.readyz()
		if code == want {
			return reason
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("/readyz = %d (%s) for %v, want %d", code, reason, limit, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// mustSignupMail signs email up to newsletter daily and waits for its
// confirmation email, the n-th message of the harness's SMTP server.
func (h *harness) mustSignupMail(email string, n int, limit time.Duration) {
	h.t.Helper()
	if code, body := h.signup(email, "daily"); code != 202 {
		h.t.Fatalf("signup of %s = %d %s, want 202", email, code, body)
	}
	msgs := h.smtp.WaitFor(h.t, n, limit)
	if got := msgs[n-1].To; len(got) != 1 || got[0] != email {
		h.t.Fatalf("message %d went to %v, want %s", n, got, email)
	}
	confirmLink(h.t, msgs[n-1])
}

// TestServiceBehindSentinel runs the service on a Sentinel set, kills the
// master, and checks that the service follows the new one without a
// restart: readiness comes back, and signups and their emails go on.
func TestServiceBehindSentinel(t *testing.T) {
	t.Parallel()
	s := redistest.StartSentinel(t)
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: s.URL}
	h.start()
	h.mustNewsletter("daily", "Daily Brief")
	if code, reason := h.readyz(); code != 200 {
		t.Fatalf("/readyz = %d (%s), want 200", code, reason)
	}
	h.mustSignupMail("before@example.org", 1, 10*time.Second)

	t.Run("start errors", func(t *testing.T) { sentinelStartErrors(t, s) })

	// A replica is read-only: a service pointed at it is not ready.
	replica := h.run(ModeServe, map[string]string{"NEWSLETTER_REDIS_URL": "redis://" + s.Servers[1].Addr + "/0"})
	onReplica := &harness{t: t, main: replica, smtp: h.smtp, url: "http://" + replica.Addr()}
	if code, reason := onReplica.readyz(); code != 503 || reason != "Redis is a read-only replica, not a master." {
		t.Fatalf("/readyz on a replica = %d (%s), want 503 naming the replica", code, reason)
	}

	s.WaitReplicated(t)
	old := s.KillMaster(t)
	killed := time.Now()
	now := s.WaitForFailover(t, old, 30*time.Second)
	h.waitReadyz(200, 15*time.Second)
	t.Logf("master %s killed; %s took over and /readyz answered 200 again after %v", old.Addr, now.Addr, time.Since(killed).Round(time.Millisecond))
	h.mustSignupMail("after@example.org", 2, 30*time.Second)
	if c := h.counts("daily"); c["pending"] != 2 {
		t.Fatalf("counts after the failover %v, want both signups pending", c)
	}
}

// sentinelStartErrors checks that a wrong database, master name or
// sentinel address stops the service at start with one line naming
// NEWSLETTER_REDIS_URL and what is wrong.
func sentinelStartErrors(t *testing.T, s *redistest.Sentinel) {
	sentinels := strings.TrimSuffix(strings.TrimPrefix(s.URL, "redis+sentinel://"), "/mymaster/0")
	tests := []struct{ url, want string }{
		{"redis+sentinel://" + sentinels + "/mymaster/1048576", `the Redis master "mymaster" (Sentinel at ` + sentinels +
			`) has no database 1048576 (DB index is out of range); it has databases 0 to 15`},
		{"redis+sentinel://" + sentinels + "/nosuchmaster", `knows no master named "nosuchmaster"`},
		{"redis+sentinel://127.0.0.1:1,127.0.0.1:2/mymaster", `no sentinel of the Redis master "mymaster" (Sentinel at 127.0.0.1:1,127.0.0.1:2) answers`},
	}
	for _, tt := range tests {
		env := testEnv(tt.url, "smtp://127.0.0.1:1")
		cfg, err := LoadConfig(func(k string) string { return env[k] })
		if err != nil {
			t.Fatalf("%s: LoadConfig: %v", tt.url, err)
		}
		m := NewMain(cfg, slog.New(slog.DiscardHandler))
		err = m.Run(context.Background(), ModeServe)
		m.Close()
		if err == nil || !strings.HasPrefix(err.Error(), "NEWSLETTER_REDIS_URL: ") || !strings.Contains(err.Error(), tt.want) ||
			strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v\nwant one line naming NEWSLETTER_REDIS_URL and saying %s", tt.url, err, tt.want)
		}
	}
}

// TestServiceOnRedisCluster runs the service on a Redis Cluster: it is
// ready while every slot is served, follows a failover within 2 s, and is
// not ready while a slot has no master. TestClusterSpreadsKeys runs the
// sign-up and digest flows on a cluster of its own.
func TestServiceOnRedisCluster(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := redistest.StartCluster(t)
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: c.URL}
	h.start()
	if code, reason := h.readyz(); code != 200 {
		t.Fatalf("/readyz = %d (%s), want 200", code, reason)
	}

	// A failover moves a master's slots to its replica: the service's
	// client routes to the new master within 2 s.
	cc, ok := h.main.rdb.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("the service's client is a %T, want a cluster client", h.main.rdb)
	}
	const key = "nl:topology-test"
	before, err := cc.MasterForKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	var old *redistest.Node
	for _, n := range c.Masters(t) {
		if n.Addr == before.Options().Addr {
			old = n
		}
	}
	if old == nil {
		t.Fatalf("the client routes %s to %s, which is no master", key, before.Options().Addr)
	}
	replica := c.ReplicaOf(t, old)
	if err := replica.Client(t).Do(ctx, "CLUSTER", "FAILOVER").Err(); err != nil {
		t.Fatal(err)
	}
	var promoted time.Time
	for deadline := time.Now().Add(10 * time.Second); promoted.IsZero(); time.Sleep(10 * time.Millisecond) {
		if role, _ := replica.Client(t).Do(ctx, "ROLE").Slice(); len(role) > 0 && role[0] == "master" {
			promoted = time.Now()
		} else if time.Now().After(deadline) {
			t.Fatalf("%s did not take over from %s", replica.Addr, old.Addr)
		}
	}
	for {
		m, err := cc.MasterForKey(ctx, key)
		if err == nil && m.Options().Addr == replica.Addr {
			t.Logf("the client routes to the new master %v after it took over", time.Since(promoted).Round(time.Millisecond))
			break
		}
		if time.Since(promoted) > 2*time.Second {
			routed := "nowhere"
			if err == nil {
				routed = m.Options().Addr
			}
			t.Fatalf("2 s after the failover the client still routes %s to %s (%v), want %s", key, routed, err, replica.Addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.WaitHealthy(t, 30*time.Second)
	h.waitReadyz(200, 5*time.Second)

	// A slot without a master: the node that dropped it reports
	// cluster_state:fail.
	master := c.Masters(t)[0]
	slot := firstSlotOf(t, master)
	mc := master.Client(t)
	if err := mc.Do(ctx, "CLUSTER", "DELSLOTS", slot).Err(); err != nil {
		t.Fatal(err)
	}
	reason := h.waitReadyz(503, 5*time.Second)
	if reason != "The Redis Cluster reports cluster_state:fail." && !strings.Contains(reason, "slots have no master") {
		t.Fatalf("/readyz gives the reason %q, want the cluster's state or its unassigned slot", reason)
	}
	if err := mc.Do(ctx, "CLUSTER", "ADDSLOTS", slot).Err(); err != nil {
		t.Fatal(err)
	}
	h.waitReadyz(200, 10*time.Second)
}

// firstSlotOf returns the first hash slot that master n serves.
func firstSlotOf(t *testing.T, n *redistest.Node) int {
	t.Helper()
	slots, err := n.Client(t).ClusterSlots(context.Background()).Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range slots {
		if len(s.Nodes) > 0 && s.Nodes[0].Addr == n.Addr {
			return s.Start
		}
	}
	t.Fatalf("%s serves no slot", n.Addr)
	return 0
}
