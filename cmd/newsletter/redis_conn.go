package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// pingTimeout bounds the check that Redis answers at start, and
// sentinelAskTimeout the questions to the sentinels when it fails.
const (
	pingTimeout        = 5 * time.Second
	sentinelAskTimeout = 2 * time.Second
)

// openRedis connects to the configured Redis and checks that it answers,
// for the one-shot commands; its error names NEWSLETTER_REDIS_URL.
func openRedis(ctx context.Context, cfg Config) (redis.UniversalClient, error) {
	rdb := cfg.Redis.NewClient()
	if err := pingRedis(ctx, rdb, cfg.Redis); err != nil {
		rdb.Close()
		return nil, err
	}
	return rdb, nil
}

// pingRedis checks that rdb, a client on target, reaches its server (the
// master behind Sentinel, a node of a cluster) and that the server takes
// its database, and says what is wrong in a *ConfigError naming
// NEWSLETTER_REDIS_URL.
func pingRedis(ctx context.Context, rdb redis.UniversalClient, target *RedisTarget) error {
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	err := rdb.Ping(ctx).Err()
	if err == nil {
		return nil
	}
	var reply redis.Error
	switch {
	case strings.Contains(err.Error(), "DB index is out of range"):
		return &ConfigError{"NEWSLETTER_REDIS_URL", fmt.Sprintf("%s has no database %d (DB index is out of range)%s",
			target, target.DB, databaseRange(ctx, target))}
	case target.Kind == RedisSentinel:
		return &ConfigError{"NEWSLETTER_REDIS_URL", sentinelProblem(ctx, target, err)}
	case errors.As(err, &reply):
		return &ConfigError{"NEWSLETTER_REDIS_URL", fmt.Sprintf("%s answers with an error: %s", target, oneLine(err))}
	}
	return &ConfigError{"NEWSLETTER_REDIS_URL", fmt.Sprintf("%s does not answer: %s", target, oneLine(err))}
}

// sentinelProblem says why the master behind Sentinel did not answer
// (err): no sentinel answers, none knows the master's name, or the master
// they name does not answer. go-redis says "all sentinels are
// unreachable" in each case.
func sentinelProblem(ctx context.Context, target *RedisTarget, err error) string {
	// The ping may have used up ctx's time: ask the sentinels afresh.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), sentinelAskTimeout)
	defer cancel()
	var errs []string
	for _, addr := range target.Addrs {
		sc := redis.NewSentinelClient(target.SentinelOptions(addr))
		master, serr := sc.GetMasterAddrByName(ctx, target.Master).Result()
		sc.Close()
		switch {
		case serr == nil && len(master) == 2:
			return fmt.Sprintf("%s, which Sentinel names at %s, does not answer: %s", target, net.JoinHostPort(master[0], master[1]), oneLine(err))
		case errors.Is(serr, redis.Nil):
			return fmt.Sprintf("the sentinel at %s knows no master named %q (SENTINEL MASTERS lists those it knows)", addr, target.Master)
		case serr != nil:
			errs = append(errs, addr+": "+oneLine(serr))
		}
	}
	return fmt.Sprintf("no sentinel of %s answers (%s)", target, strings.Join(errs, "; "))
}

// oneLine returns err's text on one line: a configuration error is one.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// databaseRange returns "; it has databases 0 to N-1" when the server
// tells how many it has, and "" when it does not (CONFIG may be disabled).
func databaseRange(ctx context.Context, target *RedisTarget) string {
	rdb := target.WithDB(0).NewClient()
	defer rdb.Close()
	cfg, err := rdb.ConfigGet(ctx, "databases").Result()
	var n int
	if err != nil || cfg["databases"] == "" {
		return ""
	}
	if _, err := fmt.Sscan(cfg["databases"], &n); err != nil || n < 1 {
		return ""
	}
	return fmt.Sprintf("; it has databases 0 to %d", n-1)
}
