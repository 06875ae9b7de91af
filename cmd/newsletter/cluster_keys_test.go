package main

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"newsletter/internal/redistest"
	"newsletter/mailer/mailtest"
)

// TestClusterSpreadsKeys runs the service on a Redis Cluster of its own (3
// masters, 3 replicas) through the acceptance flows: 300 readers sign up
// to one or both of two newsletters and confirm through the API, and a
// digest of each newsletter goes out. Every reader gets exactly one copy
// of the digest of each newsletter they read, and no master holds more
// than half of the keys (issue 16): readers' data is spread over the
// partitions, not piled on one master.
func TestClusterSpreadsKeys(t *testing.T) {
	t.Parallel()
	c := redistest.StartCluster(t)
	h := &harness{t: t, smtp: mailtest.MustStart(t), redisURL: c.URL}
	h.start()
	h.mustNewsletter("daily", "Daily Brief")
	h.mustNewsletter("weekly", "Weekly Review")

	const readers = 300
	reads := map[string][]string{} // address: the newsletters it signs up to
	subscriptions := 0
	for i := range readers {
		addr := fmt.Sprintf("Reader.%03d@Example.org", i)
		nls := [][]string{{"daily"}, {"daily", "weekly"}, {"weekly"}}[i%3]
		if code, body := h.signup(addr, nls...); code != 202 {
			t.Fatalf("signup of %s = %d %s, want 202", addr, code, body)
		}
		reads[strings.ToLower(addr)] = nls
		subscriptions += len(nls)
	}
	for _, m := range h.smtp.WaitFor(t, readers, 60*time.Second)[:readers] {
		if code, body := h.confirm(tokenOf(t, confirmLink(t, m))); code != 200 {
			t.Fatalf("confirm of %v = %d %s", m.To, code, body)
		}
	}
	h.smtp.WaitFor(t, readers+subscriptions, 60*time.Second) // a welcome per newsletter
	for _, nl := range []string{"daily", "weekly"} {
		if got := h.counts(nl); got["confirmed"] != readers*2/3 || got["pending"] != 0 {
			t.Fatalf("%s counts %v, want %d confirmed", nl, got, readers*2/3)
		}
	}

	h.postArticles([]string{"A story for the cluster"}, time.Hour)
	subjects := map[string]string{"daily": "Daily on the cluster", "weekly": "Weekly on the cluster"}
	for nl, subject := range subjects {
		code, d := h.createDigest(nl, `{"subject":"`+subject+`"}`)
		if code != 202 || d.Counts.Total != readers*2/3 {
			t.Fatalf("digest of %s = %d %+v, want 202 to %d readers", nl, code, d, readers*2/3)
		}
		if final := h.waitDigest(d.ID, 120*time.Second); final.Status != "sent" || final.Counts.Sent != readers*2/3 {
			t.Fatalf("digest of %s ended %s with %+v, want sent to %d", nl, final.Status, final.Counts, readers*2/3)
		}
	}
	waitQuiet()

	copies := map[string]int{} // "address subject", the address in lower case
	for _, m := range h.smtp.Messages() {
		for _, to := range m.To {
			copies[strings.ToLower(to)+" "+m.Header("Subject")]++
		}
	}
	for addr, nls := range reads {
		for nl, subject := range subjects {
			want := 0
			if slices.Contains(nls, nl) {
				want = 1
			}
			if got := copies[addr+" "+subject]; got != want {
				t.Errorf("%s got %d copies of the %s digest, want %d", addr, got, nl, want)
			}
		}
	}

	ctx := context.Background()
	var total int64
	sizes := map[string]int64{}
	for _, m := range c.Masters(t) {
		n, err := m.Client(t).DBSize(ctx).Result()
		if err != nil {
			t.Fatalf("DBSIZE of %s: %v", m.Addr, err)
		}
		sizes[m.Addr], total = n, total+n
	}
	t.Logf("keys by master: %v (%d in all)", sizes, total)
	if len(sizes) != 3 {
		t.Fatalf("%d masters, want 3", len(sizes))
	}
	for addr, n := range sizes {
		if 2*n > total {
			t.Errorf("master %s holds %d of the %d keys, more than half", addr, n, total)
		}
	}
}
