package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/compose-spec/compose-go/v2/cli"
	"github.com/compose-spec/compose-go/v2/types"
)

func loadComposeHA(t *testing.T) *types.Project {
	t.Helper()
	opts, err := cli.NewProjectOptions([]string{"../../compose.ha.yaml"}, cli.WithName("newsletter-ha"),
		cli.WithWorkingDirectory("../.."), cli.WithEnv([]string{composeTokenEnv}))
	if err != nil {
		t.Fatal(err)
	}
	p, err := opts.LoadProject(context.Background())
	if err != nil {
		t.Fatalf("compose.ha.yaml does not load: %v", err)
	}
	return p
}

// TestComposeHARunsSentinel checks compose.ha.yaml: a master and two
// replicas that keep their data on disk, three sentinels watching the
// master with quorum 2, and the service pointed at them.
func TestComposeHARunsSentinel(t *testing.T) {
	t.Parallel()
	p := loadComposeHA(t)
	get := func(name string) types.ServiceConfig {
		s, err := p.GetService(name)
		if err != nil {
			t.Fatalf("compose.ha.yaml lacks service %s", name)
		}
		if s.HealthCheck == nil {
			t.Errorf("service %s has no health check", name)
		}
		return s
	}
	for _, name := range []string{"redis-master", "redis-replica-1", "redis-replica-2"} {
		s := get(name)
		cmd := strings.Join(s.Command, " ")
		if !strings.Contains(cmd, "--appendonly yes") {
			t.Errorf("%s runs %q, want --appendonly yes", name, cmd)
		}
		if replica := name != "redis-master"; replica != strings.Contains(cmd, "--replicaof redis-master 6379") {
			t.Errorf("%s runs %q: only the replicas follow redis-master", name, cmd)
		}
		if len(s.Volumes) == 0 || s.Volumes[0].Type != "volume" || s.Volumes[0].Target != "/data" {
			t.Errorf("%s keeps /data on %+v, want a named volume", name, s.Volumes)
		}
	}
	var sentinels []string
	for _, name := range []string{"sentinel-1", "sentinel-2", "sentinel-3"} {
		s := get(name)
		cmd := strings.Join(s.Command, " ")
		if !strings.Contains(cmd, "sentinel monitor mymaster redis-master 6379 2") || !strings.Contains(cmd, "--sentinel") {
			t.Errorf("%s runs %q, want a sentinel monitoring redis-master as mymaster, quorum 2", name, cmd)
		}
		sentinels = append(sentinels, name+":26379")
	}

	svc := get("newsletter")
	get("mailpit")
	known, readme := configVariables(), mustRead(t, "../../README.md")
	for name := range svc.Environment {
		if !known[name] {
			t.Errorf("compose.ha.yaml sets %s, which the service does not read", name)
		}
		if !strings.Contains(readme, "`"+name+"`") {
			t.Errorf("compose.ha.yaml sets %s, which the README does not document", name)
		}
	}
	raw := svc.Environment["NEWSLETTER_REDIS_URL"]
	if raw == nil {
		t.Fatal("compose.ha.yaml does not set NEWSLETTER_REDIS_URL")
	}
	target, err := ParseRedisURL(*raw)
	if err != nil {
		t.Fatalf("NEWSLETTER_REDIS_URL %q: %v", *raw, err)
	}
	if target.Kind != RedisSentinel || target.Master != "mymaster" || !slices.Equal(target.Addrs, sentinels) {
		t.Errorf("NEWSLETTER_REDIS_URL %q names %s %q at %v, want the master mymaster through %v",
			*raw, target.Kind, target.Master, target.Addrs, sentinels)
	}
	for _, name := range []string{"sentinel-1", "sentinel-2", "sentinel-3"} {
		if _, ok := svc.DependsOn[name]; !ok {
			t.Errorf("the service does not wait for %s", name)
		}
	}
	if !strings.Contains(readme, "compose.ha.yaml") {
		t.Error("the README does not mention compose.ha.yaml")
	}
}
