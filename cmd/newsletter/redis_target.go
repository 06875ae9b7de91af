package main

import "newsletter/internal/redisurl"

// The Redis that NEWSLETTER_REDIS_URL names is parsed by package redisurl,
// which the bench shares; these names keep the command's code short.
type (
	// RedisKind says what NEWSLETTER_REDIS_URL points at.
	RedisKind = redisurl.Kind
	// RedisTarget is the Redis that NEWSLETTER_REDIS_URL names, parsed.
	RedisTarget = redisurl.Target
)

// The kinds of Redis the service runs on.
const (
	RedisNode     = redisurl.Node
	RedisSentinel = redisurl.Sentinel
	RedisCluster  = redisurl.Cluster
)

// clusterReloadInterval is how stale a cluster client's slot map may grow.
const clusterReloadInterval = redisurl.ClusterReloadInterval

// ParseRedisURL parses NEWSLETTER_REDIS_URL (redisurl.Parse).
func ParseRedisURL(raw string) (*RedisTarget, error) { return redisurl.Parse(raw) }

// nodeTarget is the target of one server with options opt.
var nodeTarget = redisurl.NodeTarget
