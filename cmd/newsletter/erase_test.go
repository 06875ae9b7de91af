package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
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

	rdb := redistest.ClientFor(t, h.redisURL)
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
	for key, text := range dumpAll(t, rdb) {
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

// dumpAll returns every key of the database with its contents as text.
func dumpAll(t *testing.T, rdb *redis.Client) map[string]string {
	t.Helper()
	ctx := context.Background()
	out := map[string]string{}
	iter := rdb.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		key := iter.Val()
		out[key] = dumpKey(ctx, rdb, key)
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func dumpKey(ctx context.Context, rdb *redis.Client, key string) string {
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
