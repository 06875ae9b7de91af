package main

import (
	"context"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// warnIfVolatile logs a warning when Redis keeps nothing on disk: neither
// an append-only file nor RDB snapshots. A restart of such a Redis loses
// subscribers and the record of who already got a digest.
func warnIfVolatile(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) {
	cfg, err := rdb.ConfigGet(ctx, "*").Result() // one call; "save" and "appendonly" need not exist
	if err != nil {
		log.Info("Could not read Redis's persistence settings (CONFIG may be disabled)", "error", err)
		return
	}
	if cfg["appendonly"] != "yes" && cfg["save"] == "" {
		log.Warn("Redis keeps nothing on disk (appendonly no, no save points): a restart loses every subscriber and delivery record; run it with appendonly yes")
	}
}
