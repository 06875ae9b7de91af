package subscribers_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
)

const day = 24 * time.Hour

// MustPurge purges subscriptions unconfirmed for 30 days at the given time
// and returns how many it removed.
func MustPurge(tb testing.TB, e *env, at time.Time) int {
	tb.Helper()
	e.SetClock(at)
	n, err := e.svc.PurgeUnconfirmed(ctx, 30*day)
	if err != nil {
		tb.Fatalf("PurgeUnconfirmed: %v", err)
	}
	return n
}

func TestPurgeUnconfirmed(t *testing.T) {
	e := MustEnv(t, "daily", "weekly")
	stale := MustSubscribe(t, e, "stale@example.org", "daily", "weekly")
	MustConfirm(t, e, MustSubscribe(t, e, "confirmed@example.org", "daily").Token)
	MustConfirm(t, e, MustSubscribe(t, e, "mixed@example.org", "weekly").Token)
	MustSubscribe(t, e, "mixed@example.org", "daily")
	e.SetClock(e.start.Add(20 * day))
	MustSubscribe(t, e, "recent@example.org", "daily")

	if n := MustPurge(t, e, e.start.Add(30*day)); n != 0 {
		t.Fatalf("purge at exactly 30 days removed %d, want 0", n)
	}
	if n := MustPurge(t, e, e.start.Add(31*day)); n != 3 {
		t.Fatalf("purge removed %d subscriptions, want 3 (stale's two, mixed's daily)", n)
	}
	if _, err := e.svc.Lookup(ctx, "stale@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Errorf("stale subscriber: %v, want erased", err)
	}
	for key := range MustDumpDB(t, e.rdb) {
		if strings.HasPrefix(key, subscribers.KeySubscriber(stale.SubscriberID)) {
			t.Errorf("key %s is left from the erased subscriber", key)
		}
	}
	if _, err := e.svc.Confirm(ctx, stale.Token, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
		t.Errorf("erased subscriber's token: %v, want invalid_token", err)
	}
	mixed := MustLookup(t, e, "mixed@example.org")
	if len(mixed.Subscriptions) != 1 || mixed.Subscriptions[0].Newsletter != "weekly" {
		t.Errorf("mixed subscriptions = %+v, want weekly only", mixed.Subscriptions)
	}
	if got := MustStatus(t, e, "confirmed@example.org", "daily"); got != newsletter.StatusConfirmed {
		t.Errorf("confirmed subscriber: %q", got)
	}
	if got := MustStatus(t, e, "recent@example.org", "daily"); got != newsletter.StatusPending {
		t.Errorf("recent signup: %q, want pending", got)
	}
	MustCounts(t, e, "daily", newsletter.Counts{Pending: 1, Confirmed: 1})
	MustCounts(t, e, "weekly", newsletter.Counts{Confirmed: 1})
	if n := MustPurge(t, e, e.start.Add(31*day)); n != 0 {
		t.Errorf("second purge removed %d, want 0", n)
	}
	if _, err := e.svc.PurgeUnconfirmed(ctx, 0); err == nil {
		t.Error("PurgeUnconfirmed(0) = nil error, want a refusal")
	}
}

// TestPurgeSparesLiveLinks checks that a subscription whose signup was
// repeated late, with a link that still works, stays until the link expires.
func TestPurgeSparesLiveLinks(t *testing.T) {
	e := MustEnv(t, "daily")
	MustSubscribe(t, e, "late@example.org", "daily")
	e.SetClock(e.start.Add(29 * day))
	again := MustSubscribe(t, e, "late@example.org", "daily")

	if n := MustPurge(t, e, e.start.Add(31*day)); n != 0 {
		t.Fatalf("purge removed %d while a link works, want 0", n)
	}
	e.SetClock(e.start.Add(35 * day))
	MustConfirm(t, e, again.Token)
	if got := MustStatus(t, e, "late@example.org", "daily"); got != newsletter.StatusConfirmed {
		t.Fatalf("status = %q, want confirmed", got)
	}

	MustSubscribe(t, e, "later@example.org", "daily")
	e.SetClock(e.start.Add(35*day + 29*day))
	MustSubscribe(t, e, "later@example.org", "daily")
	if n := MustPurge(t, e, e.start.Add(35*day+29*day+e.svc.ConfirmTTL+time.Second)); n != 1 {
		t.Errorf("purge after the link expired removed %d, want 1", n)
	}
}

// TestPurgeWalksPages checks more subscribers than one page holds.
func TestPurgeWalksPages(t *testing.T) {
	e := MustEnv(t, "daily")
	const n = 1234
	for i := range n {
		req := subscribers.SignupRequest{Email: fmt.Sprintf("reader%d@example.org", i), Newsletters: []string{"daily"}}
		if err := e.svc.Subscribe(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	MustConfirm(t, e, e.rec.Confirmations()[600].Token)
	if got := MustPurge(t, e, e.start.Add(40*day)); got != n-1 {
		t.Fatalf("purge removed %d, want %d", got, n-1)
	}
	MustCounts(t, e, "daily", newsletter.Counts{Confirmed: 1})
	left := 0
	for key := range MustDumpDB(t, e.rdb) {
		// Each partition's id counter stays (ids are never reused), and so
		// does its dictionary of consent values, which names nobody.
		if !strings.HasSuffix(key, ":next") && !strings.HasSuffix(key, ":dict") {
			left++
		}
	}
	if left > 10 {
		t.Errorf("%d keys left after the purge, want the newsletters, the one subscriber and the index", left)
	}
}
