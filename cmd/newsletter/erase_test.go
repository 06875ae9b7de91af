package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

func TestEraseLeavesNoTrace(t *testing.T) {
	t.Parallel()
	h := mustHarness(t)
	h.mustNewsletter("daily", "Daily Brief")
	h.mustNewsletter("weekly", "Weekly")
	const addr = "Erase.Me@Example.org"
	h.signup(addr, "daily", "weekly")
	h.signup("keep@example.org", "daily")
	h.signup(addr, "daily") // held back: one confirmation per address per 10 minutes
	for _, m := range h.smtp.WaitFor(t, 2, 10*time.Second) {
		if m.To[0] != "keep@example.org" {
			if code, _ := h.confirm(tokenOf(t, confirmLink(t, m))); code != 200 {
				t.Fatalf("confirm = %d", code)
			}
		}
	}
	h.smtp.WaitFor(t, 4, 10*time.Second) // welcomes to daily and weekly
	if code, body := h.editor("GET", "/v1/subscribers/erase.me@example.org", ""); code != 200 {
		t.Fatalf("lookup before erase = %d %s", code, body)
	}

	rdb := redistest.UniversalFor(t, h.redisURL)
	id, err := subscribers.NewStore(rdb).SubscriberID(context.Background(), "erase.me@example.org")
	if err != nil || id == 0 {
		t.Fatalf("SubscriberID before erase = %d, %v", id, err)
	}
	part := "nl:" + newsletter.PartitionOf(id).Tag() + ":"

	if code, body := h.editor("DELETE", "/v1/subscribers/erase.me@EXAMPLE.org", ""); code != 204 {
		t.Fatalf("DELETE = %d %s, want 204", code, body)
	}
	if code, _ := h.editor("GET", "/v1/subscribers/erase.me@example.org", ""); code != 404 {
		t.Fatalf("lookup after erase = %d, want 404", code)
	}
	if code, _ := h.editor("DELETE", "/v1/subscribers/erase.me@example.org", ""); code != 404 {
		t.Fatalf("second DELETE = %d, want 404", code)
	}
	if c := h.counts("daily"); c["confirmed"]+c["pending"]+c["unsubscribed"] != 1 {
		t.Fatalf("daily counts after erase %v, want only the other subscriber", c)
	}
	all := dumpAll(t, rdb)
	kept := false
	for key, text := range all {
		kept = kept || strings.Contains(strings.ToLower(key+" "+text), "keep@example.org")
	}
	if !kept {
		t.Fatalf("none of the %d keys mentions keep@example.org, who stays: the dump misses keys", len(all))
	}
	for key, text := range all {
		if strings.Contains(strings.ToLower(key+" "+text), "erase.me") {
			t.Errorf("key %s still mentions the erased address: %.200s", key, text)
		}
		if strings.HasPrefix(key, part+"sub:"+strconv.FormatInt(id, 10)) ||
			strings.HasPrefix(key, part+"confirm:") && strings.Contains(text, "sid "+strconv.FormatInt(id, 10)) {
			t.Errorf("key %s is left from the erased subscriber: %.200s", key, text)
		}
		if strings.HasPrefix(key, part+"audience:") && rdb.GetBit(context.Background(), key, newsletter.BitOf(id)).Val() == 1 {
			t.Errorf("audience %s still holds the erased subscriber", key)
		}
	}
}

// dumpAll returns every key of the database with its contents as text; on
// a cluster, every key of every master.
func dumpAll(t *testing.T, rdb redis.UniversalClient) map[string]string {
	t.Helper()
	ctx := context.Background()
	var keys []string
	var mu sync.Mutex
	scan := func(ctx context.Context, node *redis.Client) error {
		iter := node.Scan(ctx, 0, "*", 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	}
	var err error
	switch c := rdb.(type) {
	case *redis.ClusterClient:
		err = c.ForEachMaster(ctx, scan)
	case *redis.Client:
		err = scan(ctx, c)
	default:
		t.Fatalf("dumpAll: a %T", rdb)
	}
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, key := range keys {
		out[key] = dumpKey(ctx, rdb, key)
	}
	return out
}

func dumpKey(ctx context.Context, rdb redis.UniversalClient, key string) string {
	switch rdb.Type(ctx, key).Val() {
	case "string":
		return rdb.Get(ctx, key).Val()
	case "hash":
		var parts []string
		for k, v := range rdb.HGetAll(ctx, key).Val() {
			parts = append(parts, k+" "+v)
		}
		return strings.Join(parts, " ")
	case "list":
		return strings.Join(rdb.LRange(ctx, key, 0, -1).Val(), " ")
	case "set":
		return strings.Join(rdb.SMembers(ctx, key).Val(), " ")
	case "zset":
		return strings.Join(rdb.ZRange(ctx, key, 0, -1).Val(), " ")
	}
	return fmt.Sprintf("(type %s)", rdb.Type(ctx, key).Val())
}
