package subscribers

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/internal/redistest"
)

// TestGateBatchTakesInOrder runs the gates of five signups as one script
// call, as a group of concurrent signups does: a client window of 2 lets
// the first two of one client through and makes the third wait for the
// first's event to leave the window, though both events were taken in
// the same call; a signup refused by one of its windows takes from none;
// and a site window of 1 gives its one email to the first client that
// passes, the later ones passing without.
func TestGateBatchTakesInOrder(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	const window = int64(60_000)
	now := time.Now().UnixMilli()
	client := func(key string, limit int, member string) *windowArgs {
		return &windowArgs{key: "nl:{nl}:test:client:" + key, window: window, limit: limit, member: member}
	}
	site := func(member string) *windowArgs {
		return &windowArgs{key: "nl:{nl}:test:site", window: window, limit: 1, member: member}
	}
	full := client("full", 0, "never")
	reqs := []*gateRequest{
		{nowMs: now, limits: signupLimits{client: []*windowArgs{client("a", 2, "a1")}, site: site("s1")}},
		{nowMs: now + 10, limits: signupLimits{client: []*windowArgs{client("a", 2, "a2")}, site: site("s2")}},
		{nowMs: now + 20, limits: signupLimits{client: []*windowArgs{client("a", 2, "a3")}, site: site("s3")}},
		{nowMs: now + 30, limits: signupLimits{client: []*windowArgs{client("b", 5, "b1"), full}, site: site("s4")}},
		{nowMs: now + 40, limits: signupLimits{client: []*windowArgs{client("b", 5, "b2")}}},
	}
	var b gateBatch
	for _, r := range reqs {
		b.add(r)
	}
	p := rdb.Pipeline()
	cmd := b.queue(p)
	_, _ = p.Exec(ctx) // NOSCRIPT the first time: settle runs the script's text
	b.settle(rdb, cmd)
	want := []struct {
		wait time.Duration
		site bool
	}{{0, true}, {0, false}, {time.Duration(window-20) * time.Millisecond, false}, {time.Duration(window) * time.Millisecond, false}, {0, false}}
	for i, r := range reqs {
		if r.err != nil || r.wait != want[i].wait || r.siteTaken != want[i].site {
			t.Errorf("signup %d: wait %s, site %v, err %v; want wait %s, site %v", i+1, r.wait, r.siteTaken, r.err, want[i].wait, want[i].site)
		}
	}
	for key, members := range map[string][]string{"nl:{nl}:test:client:a": {"a1", "a2"}, "nl:{nl}:test:client:b": {"b2"},
		"nl:{nl}:test:site": {"s1"}, full.key: {}} {
		got, err := rdb.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(members) || (len(got) > 0 && got[0] != members[0]) || (len(got) > 1 && got[1] != members[1]) {
			t.Errorf("%s holds %v, want %v", key, got, members)
		}
		if ttl := rdb.PTTL(ctx, key).Val(); len(members) > 0 && (ttl <= 0 || ttl > time.Duration(window)*time.Millisecond) {
			t.Errorf("%s expires in %s, want within the window", key, ttl)
		}
	}
}

// TestGateBatchOneBadWindowFailsAlone: when the script fails for a batch
// (here one signup's window key holds a string), each gate runs again
// alone, so only that signup fails and the others take their events.
func TestGateBatchOneBadWindowFailsAlone(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	if err := rdb.Set(ctx, "nl:{nl}:test:bad", "not a window", 0).Err(); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UnixMilli()
	window := func(key, member string) *windowArgs {
		return &windowArgs{key: "nl:{nl}:test:" + key, window: 60_000, limit: 5, member: member}
	}
	reqs := []*gateRequest{
		{nowMs: now, limits: signupLimits{client: []*windowArgs{window("a", "a1")}}},
		{nowMs: now + 1, limits: signupLimits{client: []*windowArgs{window("bad", "x1")}}},
		{nowMs: now + 2, limits: signupLimits{client: []*windowArgs{window("a", "a2")}}},
	}
	var b gateBatch
	for _, r := range reqs {
		b.add(r)
	}
	p := rdb.Pipeline()
	cmd := b.queue(p)
	_, _ = p.Exec(ctx)
	b.settle(rdb, cmd)
	if reqs[0].err != nil || reqs[2].err != nil || reqs[0].wait != 0 || reqs[2].wait != 0 {
		t.Fatalf("the good signups: %v, %v (waits %s, %s); want both through", reqs[0].err, reqs[2].err, reqs[0].wait, reqs[2].wait)
	}
	if reqs[1].err == nil {
		t.Fatal("the signup whose window holds a string went through")
	}
	if got := rdb.ZCard(ctx, "nl:{nl}:test:a").Val(); got != 2 {
		t.Fatalf("the good window holds %d events, want 2", got)
	}
}

// TestGateBatchAfterNOSCRIPT: when Redis lost the script (a restart), the
// batch runs with the script's text and every signup gets its result.
func TestGateBatchAfterNOSCRIPT(t *testing.T) {
	rdb := redistest.Client(t)
	ctx := context.Background()
	noscript := rdb.EvalSha(ctx, strings.Repeat("0", 40), nil).Err()
	if noscript == nil || !strings.HasPrefix(noscript.Error(), "NOSCRIPT") {
		t.Fatalf("EVALSHA of an unknown script: %v, want NOSCRIPT", noscript)
	}
	now := time.Now().UnixMilli()
	r := &gateRequest{nowMs: now, limits: signupLimits{client: []*windowArgs{{key: "nl:{nl}:test:c", window: 60_000, limit: 1, member: "c1"}},
		site: &windowArgs{key: "nl:{nl}:test:site", window: 60_000, limit: 1, member: "s1"}}}
	var b gateBatch
	b.add(r)
	b.layout()
	cmd := redis.NewCmd(ctx)
	cmd.SetErr(noscript)
	b.settle(rdb, cmd)
	if r.err != nil || r.wait != 0 || !r.siteTaken {
		t.Fatalf("after NOSCRIPT: err %v, wait %s, site %v; want through with the site's event", r.err, r.wait, r.siteTaken)
	}
}

// TestGateKeepsEachBatchInOneSlot: a signup whose windows' keys have
// different hash tags fails (they could not be taken in one step on a
// cluster); windows of another tag make a batch of their own.
func TestGateKeepsEachBatchInOneSlot(t *testing.T) {
	mixed := &gateRequest{limits: signupLimits{client: []*windowArgs{{key: "nl:{a}:w"}}, site: &windowArgs{key: "nl:{nl}:site"}}}
	a := &gateRequest{limits: signupLimits{client: []*windowArgs{{key: "nl:{a}:w"}}}}
	nl := &gateRequest{limits: signupLimits{client: []*windowArgs{{key: "nl:{nl}:w"}}, site: &windowArgs{key: "nl:{nl}:site"}}}
	batches := gateBatches([]*groupItem{{gate: mixed}, {gate: a}, {gate: nl}, {gate: nil}})
	if !errors.Is(mixed.err, errGateSlots) {
		t.Errorf("the signup with keys in {a} and {nl}: %v, want errGateSlots", mixed.err)
	}
	if len(batches) != 2 || batches[0].tag != "a" || len(batches[0].reqs) != 1 || batches[1].tag != "nl" || len(batches[1].reqs) != 1 {
		t.Errorf("batches: %+v, want one in {a} and one in {nl}", batches)
	}
}
