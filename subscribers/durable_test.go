package subscribers_test

import (
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
)

// TestMinReplicasRefusesWhatNoReplicaHolds: with MinReplicas 1 on a Redis
// without replicas, each write that readers were promised answers
// unavailable after about replicaWait, and trying again is safe: the
// signup is stored once, and its link works once the condition is lifted.
func TestMinReplicasRefusesWhatNoReplicaHolds(t *testing.T) {
	e := MustEnv(t, "daily")
	e.svc.Store.MinReplicas = 1
	req := subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily"}}
	for range 2 {
		start := time.Now()
		err := e.svc.Subscribe(ctx, req)
		if code := newsletter.ErrorCode(err); code != newsletter.EUNAVAILABLE {
			t.Fatalf("Subscribe without a replica: %v (code %q), want unavailable", err, code)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Fatalf("Subscribe took %s to answer unavailable", took)
		}
	}
	MustCounts(t, e, "daily", newsletter.Counts{Pending: 1}) // stored once
	c := e.rec.Confirmations()[0]
	if _, err := e.svc.Confirm(ctx, c.Token, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EUNAVAILABLE {
		t.Fatalf("Confirm without a replica: %v, want unavailable", err)
	}
	e.svc.Store.MinReplicas = 0
	if got, err := e.svc.Confirm(ctx, c.Token, subscribers.RequestMeta{}); err != nil || len(got) != 1 {
		t.Fatalf("Confirm again with MinReplicas 0 = %v, %v; want [daily]", got, err)
	}
	MustCounts(t, e, "daily", newsletter.Counts{Confirmed: 1})
	e.svc.Store.MinReplicas = 1
	if err := e.svc.Erase(ctx, "a@example.org"); newsletter.ErrorCode(err) != newsletter.EUNAVAILABLE {
		t.Fatalf("Erase without a replica: %v, want unavailable", err)
	}
}
