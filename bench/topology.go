package main

import (
	"context"
	"errors"
	"fmt"
	"newsletter/internal/redisurl"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// topology is the Redis the bench runs on, as -redis names it: one node, the
// master that Sentinel names, or a Redis Cluster.
type topology struct {
	target *redisurl.Target
	rdb    redis.UniversalClient
	// node is the same client when it talks to one server (a node, or
	// Sentinel's master): seed.go's pipelines take one. nil on a cluster.
	node *redis.Client
	// cluster is the same client on a cluster, else nil.
	cluster *redis.ClusterClient
	masters int // 1 but on a cluster
}

// openTopology parses -redis and connects. A cluster has only database 0,
// which the bench FLUSHALLs on every master: it is refused unless the
// caller owns it (-i-own-this-cluster). A node or Sentinel's master must
// name a database other than 0.
func openTopology(ctx context.Context, raw string, ownCluster bool) (*topology, error) {
	t, err := redisurl.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("-redis: %w", err)
	}
	switch {
	case t.Kind == redisurl.Cluster && !ownCluster:
		return nil, fmt.Errorf("-redis: %s: the bench runs FLUSHALL on every master of a cluster (it has only database 0); "+
			"pass -i-own-this-cluster if nothing on it is of value", t)
	case t.Kind != redisurl.Cluster && t.DB == 0:
		return nil, fmt.Errorf("-redis: refusing database 0; name a spare database such as /9")
	}
	tp := &topology{target: t, rdb: t.NewClient(), masters: 1}
	switch c := tp.rdb.(type) {
	case *redis.Client:
		tp.node = c
	case *redis.ClusterClient:
		tp.cluster = c
	}
	if err := tp.rdb.Ping(ctx).Err(); err != nil {
		tp.rdb.Close()
		return nil, fmt.Errorf("%s: %w", t, err)
	}
	if tp.cluster != nil {
		if err := tp.checkCluster(ctx); err != nil {
			tp.rdb.Close()
			return nil, err
		}
	}
	return tp, nil
}

// checkCluster checks that the cluster is healthy and counts its masters.
func (tp *topology) checkCluster(ctx context.Context) error {
	info, err := tp.cluster.ClusterInfo(ctx).Result()
	if err != nil {
		return fmt.Errorf("%s: CLUSTER INFO: %w", tp.target, err)
	}
	if !strings.Contains(info, "cluster_state:ok") {
		return fmt.Errorf("%s: cluster_state is not ok", tp.target)
	}
	var mu sync.Mutex
	n := 0
	err = tp.cluster.ForEachMaster(ctx, func(context.Context, *redis.Client) error {
		mu.Lock()
		n++
		mu.Unlock()
		return nil
	})
	tp.masters = n
	return err
}

// name is what the report calls the topology.
func (tp *topology) name() string {
	switch tp.target.Kind {
	case redisurl.Cluster:
		return fmt.Sprintf("cluster (%d masters)", tp.masters)
	case redisurl.Sentinel:
		return "Sentinel master"
	}
	return "one node"
}

// kind is "node", "sentinel" or "cluster".
func (tp *topology) kind() string { return string(tp.target.Kind) }

// flush empties what the bench may use: the database that -redis names,
// or, on a cluster, everything on every master (FLUSHALL; the replicas
// follow).
func (tp *topology) flush(ctx context.Context) error {
	if tp.cluster == nil {
		return tp.node.FlushDB(ctx).Err()
	}
	return tp.cluster.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
		return c.FlushAll(ctx).Err()
	})
}

// forEachServer calls fn with a client of each server holding data: the
// one server, or each master of a cluster (concurrently; fn must be safe
// for that).
func forEachServer(ctx context.Context, rdb redis.UniversalClient, fn func(context.Context, *redis.Client) error) error {
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		return c.ForEachMaster(ctx, fn)
	case *redis.Client:
		return fn(ctx, c)
	}
	return fmt.Errorf("unexpected Redis client %T", rdb)
}

// seedFor returns how to seed subscribers on this topology. seed.go's
// functions take a *redis.Client, which a cluster has not: there, only
// -seed import works, through seedImport.
func (tp *topology) seedFor(via string) (func(context.Context, int, time.Time) error, error) {
	switch {
	case tp.cluster != nil && via == "import":
		return func(ctx context.Context, n int, now time.Time) error {
			return seedImport(ctx, tp.rdb, benchNewsletter, n, now)
		}, nil
	case tp.cluster != nil:
		return nil, errors.New("-seed pipeline writes through one server's pipelines (seed.go); on a cluster use -seed import")
	case via == "import":
		return func(ctx context.Context, n int, now time.Time) error {
			return seedImport(ctx, tp.node, benchNewsletter, n, now)
		}, nil
	}
	return func(ctx context.Context, n int, now time.Time) error {
		return seedSubscribers(ctx, tp.node, benchNewsletter, n, now)
	}, nil
}

// redactURL returns a Redis URL without its password.
func redactURL(raw string) string {
	scheme, rest, ok := strings.Cut(raw, "://")
	if !ok {
		scheme, rest = "", raw
	}
	if i := strings.LastIndex(strings.SplitN(rest, "/", 2)[0], "@"); i >= 0 {
		user, _, _ := strings.Cut(rest[:i], ":")
		rest = user + ":xxx" + rest[i:]
	}
	if base, query, ok := strings.Cut(rest, "?"); ok && strings.Contains(query, "password=") {
		var kept []string
		for _, kv := range strings.Split(query, "&") {
			if k, _, _ := strings.Cut(kv, "="); strings.HasSuffix(k, "password") {
				kv = k + "=xxx"
			}
			kept = append(kept, kv)
		}
		rest = base + "?" + strings.Join(kept, "&")
	}
	if scheme == "" {
		return rest
	}
	return scheme + "://" + rest
}
