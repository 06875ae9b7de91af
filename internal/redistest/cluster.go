package redistest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// A Redis Cluster has only database 0, so with a redis+cluster:// URL in
// NEWSLETTER_TEST_REDIS_URL the pool is the whole cluster: one lease
// (clusterLeaseKey), which one test holds at a time. Its owner empties
// every master when it claims the cluster and again when it lets it go
// (their replicas follow them), keeping only the lease key. Tests on a
// cluster therefore run one at a time: go test -parallel 1.

// clusterLeaseKey is the lease on a whole cluster. Its hash tag puts it in
// a slot that no key of the service's layout ({r00}..{r63}, {nl}) or of
// asynq's ({queue}) shares.
const clusterLeaseKey = "newsletter:test:lease:{cluster}"

// OneAtATime reports whether NEWSLETTER_TEST_REDIS_URL names a Redis
// Cluster, which one test holds at a time: tests that use it run with
// go test -parallel 1.
func OneAtATime() bool { return isClusterURL(os.Getenv(URLVar)) }

// isClusterURL reports whether raw names a Redis Cluster.
func isClusterURL(raw string) bool {
	lower := strings.ToLower(raw)
	return strings.HasPrefix(lower, "redis+cluster://") || strings.HasPrefix(lower, "rediss+cluster://")
}

// parseClusterURL reads redis+cluster://[[user]:password@]host:port,
// host:port,...[/0][?option=value...] (rediss+cluster:// for TLS), the
// form the service takes, into cluster options; the options in the query
// are go-redis's (dial_timeout=3s ...).
func parseClusterURL(raw string) (*redis.ClusterOptions, error) {
	scheme, rest, _ := strings.Cut(raw, "://")
	rest, query, _ := strings.Cut(rest, "?")
	userHosts, path, _ := strings.Cut(rest, "/")
	if path != "" && path != "0" {
		return nil, fmt.Errorf("a redis+cluster URL names database %q: a Redis Cluster has only database 0", path)
	}
	userinfo, hosts := "", userHosts
	if i := strings.LastIndex(userHosts, "@"); i >= 0 {
		userinfo, hosts = userHosts[:i+1], userHosts[i+1:]
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, err
	}
	addrs := strings.Split(hosts, ",")
	for _, a := range addrs {
		if _, _, err := net.SplitHostPort(a); err != nil {
			return nil, fmt.Errorf("%q in a redis+cluster URL is not host:port", a)
		}
	}
	for _, a := range addrs[1:] {
		q.Add("addr", a)
	}
	base := strings.TrimSuffix(strings.ToLower(scheme), "+cluster")
	opt, err := redis.ParseClusterURL(base + "://" + userinfo + addrs[0] + "?" + q.Encode())
	if err != nil {
		return nil, fmt.Errorf("a redis+cluster URL: %w", err)
	}
	return opt, nil
}

// flushKeepScript empties the node that holds the lease KEYS[1] and sets
// the lease again to ARGV[1] for ARGV[2] ms, in one step, so that no other
// test can claim the cluster in between; it does nothing and returns 0
// when the lease is no longer ARGV[1]'s.
var flushKeepScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
	return 0
end
redis.call('FLUSHDB')
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`)

// claimCluster leases the whole cluster that raw names, empties it, and
// starts refreshing the lease.
func claimCluster(tb testing.TB, raw string, cfg leaseConfig) (*lease, error) {
	ttl, wait, refresh := cfg.durations()
	opt, err := parseClusterURL(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", URLVar, err)
	}
	where := "the Redis Cluster at " + strings.Join(opt.Addrs, ",")
	// A FLUSHDB of many keys may outlast the default 3 s; the lease has a
	// full TTL left when it runs.
	opt.ReadTimeout = max(opt.ReadTimeout, ttl/2)
	cc := redis.NewClusterClient(opt)
	ok := false
	defer func() {
		if !ok {
			cc.Close()
		}
	}()
	ctx := context.Background()
	if err := cc.Ping(ctx).Err(); err != nil {
		return nil, fmt.Errorf("%s (%s): %w", URLVar, where, err)
	}
	owner := newOwner(tb)
	key, err := acquire(ctx, tb, cc, func() []string { return []string{clusterLeaseKey} }, owner, ttl, wait, where)
	if err != nil {
		return nil, fmt.Errorf("lease %s: %w", where, err)
	}
	if key == "" {
		holder, err := cc.Get(ctx, clusterLeaseKey).Result()
		if err != nil {
			holder = "unknown: " + err.Error()
		}
		return nil, fmt.Errorf("%s stayed leased to another test for %v (holder: %s); a cluster has only "+
			"database 0, so its tests run one at a time: go test -parallel 1, one package at a time", where, wait, holder)
	}
	l := &lease{
		admin: cc,
		flush: func(ctx context.Context) error { return flushCluster(ctx, cc, owner, ttl) },
		close: func() { cc.Close() },
		what:  where,
		key:   key,
		owner: owner,
		ttl:   ttl,
		done:  make(chan struct{}),
	}
	if err := l.flush(ctx); err != nil {
		releaseScript.Run(ctx, cc, []string{key}, owner)
		return nil, fmt.Errorf("flush %s: %w", where, err)
	}
	l.start(refresh)
	ok = true
	return l, nil
}

// flushCluster empties every master of cc but the lease, which must still
// be owner's, and sets the lease to expire a full ttl from now.
func flushCluster(ctx context.Context, cc *redis.ClusterClient, owner string, ttl time.Duration) error {
	holder, err := cc.MasterForKey(ctx, clusterLeaseKey)
	if err != nil {
		return err
	}
	err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error {
		if n.Options().Addr == holder.Options().Addr {
			return nil
		}
		if err := n.FlushDB(ctx).Err(); err != nil {
			return fmt.Errorf("FLUSHDB on %s: %w", n.Options().Addr, err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	kept, err := flushKeepScript.Run(ctx, cc, []string{clusterLeaseKey}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("FLUSHDB on %s: %w", holder.Options().Addr, err)
	}
	if kept == 0 {
		return errors.New("the lease is no longer this test's")
	}
	return nil
}
