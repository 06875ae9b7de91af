package main

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter/internal/redistest"
)

func TestWarnsWhenRedisKeepsNothing(t *testing.T) {
	t.Parallel()
	rdb := redistest.Universal(t)
	ctx := context.Background()
	cfg, err := rdb.ConfigGet(ctx, "*").Result()
	if err != nil {
		t.Skipf("CONFIG GET is not available: %v", err)
	}
	var logs bytes.Buffer
	warnIfVolatile(ctx, rdb, slog.New(slog.NewTextHandler(&logs, nil)))
	volatile := cfg["appendonly"] != "yes" && cfg["save"] == ""
	if warned := strings.Contains(logs.String(), "Redis keeps nothing on disk"); warned != volatile {
		t.Fatalf("appendonly=%q save=%q: warned %v, want %v", cfg["appendonly"], cfg["save"], warned, volatile)
	}
}

func TestWarnsNotWithAppendOnly(t *testing.T) {
	t.Parallel()
	own := mustOwnRedis(t) // started with appendonly yes
	opt, _ := redis.ParseURL(own.url())
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	var logs bytes.Buffer
	warnIfVolatile(context.Background(), rdb, slog.New(slog.NewTextHandler(&logs, nil)))
	if strings.Contains(logs.String(), "keeps nothing") {
		t.Fatalf("warned about a Redis with appendonly yes: %s", logs.String())
	}
}
