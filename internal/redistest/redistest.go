// Package redistest hands tests a Redis database of their own: the real
// server named by NEWSLETTER_TEST_REDIS_URL, or an embedded one when the
// variable is unset.
package redistest

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
)

// URLVar names the variable that points tests at a real Redis, e.g.
// redis://127.0.0.1:6379. The DB number in it is ignored: each package
// passes its own.
const URLVar = "NEWSLETTER_TEST_REDIS_URL"

// MustOptions returns connection options for database db, flushed, so the
// calling package owns it. Packages must each use a different db.
func MustOptions(tb testing.TB, db int) *redis.Options {
	tb.Helper()
	opt := baseOptions(tb)
	opt.DB = db
	c := redis.NewClient(opt)
	defer c.Close()
	if err := c.FlushDB(context.Background()).Err(); err != nil {
		tb.Fatalf("redistest: flush db %d: %v", db, err)
	}
	return opt
}

// MustClient returns a client on database db, flushed, closed at cleanup.
func MustClient(tb testing.TB, db int) *redis.Client {
	tb.Helper()
	c := redis.NewClient(MustOptions(tb, db))
	tb.Cleanup(func() { c.Close() })
	return c
}

// MustURL returns a redis:// URL for database db of the test server, flushed.
func MustURL(tb testing.TB, db int) string {
	tb.Helper()
	opt := MustOptions(tb, db)
	u := "redis://"
	if opt.Password != "" {
		u += ":" + opt.Password + "@"
	}
	return u + opt.Addr + "/" + strconv.Itoa(db)
}

func baseOptions(tb testing.TB) *redis.Options {
	tb.Helper()
	if raw := os.Getenv(URLVar); raw != "" {
		opt, err := redis.ParseURL(raw)
		if err != nil {
			tb.Fatalf("redistest: %s: %v", URLVar, err)
		}
		return opt
	}
	m := miniredis.RunT(tb)
	return &redis.Options{Addr: m.Addr()}
}
