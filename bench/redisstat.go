package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/subscribers"
)

// redisInfo returns the fields of one INFO section of one server.
func redisInfo(ctx context.Context, rdb *redis.Client, section string) (map[string]string, error) {
	raw, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(raw))
	for sc.Scan() {
		if k, v, ok := strings.Cut(strings.TrimSpace(sc.Text()), ":"); ok {
			out[k] = v
		}
	}
	return out, nil
}

// infoSum returns the sum of the INFO fields named, of one section, over
// the servers that hold data: the one server, or every master of a
// cluster (not the replicas, whose work the masters' writes cause).
func infoSum(ctx context.Context, rdb redis.UniversalClient, section string, fields ...string) (float64, error) {
	var mu sync.Mutex
	var sum float64
	err := forEachServer(ctx, rdb, func(ctx context.Context, c *redis.Client) error {
		info, err := redisInfo(ctx, c, section)
		if err != nil {
			return err
		}
		var v float64
		for _, f := range fields {
			x, err := strconv.ParseFloat(info[f], 64)
			if err != nil {
				return fmt.Errorf("INFO %s %s: %w", section, f, err)
			}
			v += x
		}
		mu.Lock()
		sum += v
		mu.Unlock()
		return nil
	})
	return sum, err
}

// usedMemory is INFO memory's used_memory: the whole instance, every
// database, so other users of the same Redis blur it; on a cluster, the
// sum over the masters.
func usedMemory(ctx context.Context, rdb redis.UniversalClient) (int64, error) {
	v, err := infoSum(ctx, rdb, "memory", "used_memory")
	return int64(v), err
}

// redisCPU is the instance's used_cpu_user + used_cpu_sys, in seconds; on
// a cluster, the sum over the masters.
func redisCPU(ctx context.Context, rdb redis.UniversalClient) (float64, error) {
	return infoSum(ctx, rdb, "cpu", "used_cpu_user", "used_cpu_sys")
}

// sampledBytesPerSubscriber estimates the memory of n seeded subscribers
// from MEMORY USAGE, which other databases do not blur: the index hash and
// the audience set in full, plus the subscriber hashes (and consent lists,
// with consent) of a sample of ids scaled up to n.
func sampledBytesPerSubscriber(ctx context.Context, rdb redis.UniversalClient, nl string, n int, consent bool) (float64, error) {
	var total float64
	for _, p := range newsletter.AllPartitions() {
		for _, key := range []string{seedKeyIndex(p), subscribers.KeyAudience(nl, newsletter.StatusConfirmed, p)} {
			b, err := rdb.MemoryUsage(ctx, key, 0).Result()
			if err != nil && !errors.Is(err, redis.Nil) {
				return 0, err
			}
			total += float64(b)
		}
	}
	const samples = 200
	step := max(n/samples, 1)
	var sum float64
	var taken int
	ids := seedIDs(n)
	for i := 0; i < n; i += step {
		keys := []string{seedKeySubscriber(ids[i])} // its consent records included, when seeded
		for _, k := range keys {
			b, err := rdb.MemoryUsage(ctx, k).Result()
			if err != nil {
				return 0, err
			}
			sum += float64(b)
		}
		taken++
	}
	total += sum / float64(taken) * float64(n)
	return total / float64(n), nil
}

// redisVersion is the version of the server, or of the masters of a
// cluster (the first one to answer).
func redisVersion(ctx context.Context, rdb redis.UniversalClient) string {
	var mu sync.Mutex
	version := "unknown"
	_ = forEachServer(ctx, rdb, func(ctx context.Context, c *redis.Client) error {
		info, err := redisInfo(ctx, c, "server")
		if err != nil {
			return err
		}
		mu.Lock()
		version = info["redis_version"]
		mu.Unlock()
		return nil
	})
	return version
}
