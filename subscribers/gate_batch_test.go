package subscribers

import (
	"context"
	"testing"
	"time"

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
