package main

import (
	"bufio"
	"context"
	"errors"
	"newsletter"
	"newsletter/subscribers"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"
)

// redisInfo returns the fields of one INFO section.
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

// usedMemory is INFO memory's used_memory: the whole instance, every
// database, so other users of the same Redis blur it.
func usedMemory(ctx context.Context, rdb *redis.Client) (int64, error) {
	info, err := redisInfo(ctx, rdb, "memory")
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(info["used_memory"], 10, 64)
}

// redisCPU is the instance's used_cpu_user + used_cpu_sys, in seconds.
func redisCPU(ctx context.Context, rdb *redis.Client) (float64, error) {
	info, err := redisInfo(ctx, rdb, "cpu")
	if err != nil {
		return 0, err
	}
	u, err := strconv.ParseFloat(info["used_cpu_user"], 64)
	if err != nil {
		return 0, err
	}
	s, err := strconv.ParseFloat(info["used_cpu_sys"], 64)
	return u + s, err
}

// sampledBytesPerSubscriber estimates the memory of n seeded subscribers
// from MEMORY USAGE, which other databases do not blur: the index hash and
// the audience set in full, plus the subscriber hashes (and consent lists,
// with consent) of a sample of ids scaled up to n.
func sampledBytesPerSubscriber(ctx context.Context, rdb *redis.Client, nl string, n int, consent bool) (float64, error) {
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

func redisVersion(ctx context.Context, rdb *redis.Client) string {
	info, err := redisInfo(ctx, rdb, "server")
	if err != nil {
		return "unknown"
	}
	return info["redis_version"]
}
