package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

// pingTimeout bounds the check that Redis answers at start.
const pingTimeout = 5 * time.Second

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
	case errors.As(err, &reply):
		return &ConfigError{"NEWSLETTER_REDIS_URL", fmt.Sprintf("%s answers with an error: %v", target, err)}
	}
	return &ConfigError{"NEWSLETTER_REDIS_URL", fmt.Sprintf("%s does not answer: %v", target, err)}
}

// databaseRange returns "; it has databases 0 to N-1" when the server
// tells how many it has, and "" when it does not (CONFIG may be disabled).
func databaseRange(ctx context.Context, target *RedisTarget) string {
	rdb := target.withDB(0).NewClient()
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
