package redistest_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter/internal/redistest"
)

func TestSlotMatchesRedis(t *testing.T) {
	// Values from the Redis Cluster specification and CLUSTER KEYSLOT.
	for key, want := range map[string]int{"foo": 12182, "bar": 5061, "{user1000}.following": 3443} {
		if got := redistest.Slot(key); got != want {
			t.Errorf("Slot(%q) = %d, want %d", key, got, want)
		}
	}
	if redistest.Slot("nl:{r07}:sub:1") != redistest.Slot("nl:{r07}:index") {
		t.Error("keys with one hash tag hash apart")
	}
}

// errorsTB records what a check reports instead of failing the test.
type errorsTB struct {
	testing.TB
	errs []string
}

func (e *errorsTB) Errorf(format string, args ...any) {
	e.errs = append(e.errs, fmt.Sprintf(format, args...))
}

// TestSlotCheckCatchesCrossSlot runs the hook over a real client and checks
// that it reports a script, a transaction and a multi-key command whose
// keys span slots, and nothing else.
func TestSlotCheckCatchesCrossSlot(t *testing.T) {
	rdb := redis.NewClient(redistest.Options(t)) // without Client's own check, which would fail the test
	t.Cleanup(func() { rdb.Close() })
	rec := &errorsTB{TB: t}
	rdb.AddHook(redistest.SlotCheck(rec))
	ctx := context.Background()
	script := redis.NewScript(`return #KEYS`)
	steps := []struct {
		name  string
		run   func()
		cross bool
	}{
		{"script, one tag", func() { script.Run(ctx, rdb, []string{"a{t}", "b{t}"}) }, false},
		{"script, two slots", func() { script.Run(ctx, rdb, []string{"a{t}", "b{u}"}) }, true},
		{"transaction, one tag", func() {
			rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { p.Set(ctx, "x{t}", 1, 0); p.Incr(ctx, "y{t}"); return nil })
		}, false},
		{"transaction, two slots", func() {
			rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { p.Set(ctx, "x{t}", 1, 0); p.Incr(ctx, "y{u}"); return nil })
		}, true},
		{"pipeline, two slots (a cluster splits it)", func() {
			rdb.Pipelined(ctx, func(p redis.Pipeliner) error { p.Set(ctx, "x{t}", 1, 0); p.Incr(ctx, "y{u}"); return nil })
		}, false},
		{"DEL, two slots", func() { rdb.Del(ctx, "x{t}", "y{u}") }, true},
	}
	for _, s := range steps {
		rec.errs = nil
		s.run()
		if got := len(rec.errs) > 0; got != s.cross {
			t.Errorf("%s: reported %v (%q), want %v", s.name, got, rec.errs, s.cross)
		}
	}
}
