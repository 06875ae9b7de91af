package digests_test

import (
	"context"
	"testing"
	"time"

	"newsletter"
	"newsletter/digests"
)

// TestPerRecipientDataExpires: a digest's per-recipient data (its audience
// copy, outcome bits and partition counts) expires after the Store's
// Retention, while its hash (status, counts, articles) stays, and Get
// still tells the counts once that data is gone.
func TestPerRecipientDataExpires(t *testing.T) {
	e := MustEnv(t)
	e.svc.Store.Retention = time.Hour
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -time.Hour)
	ids := e.MustConfirmed(t, "daily", addrs("reader", 3)...)
	d := e.MustCreate(t, "daily", digests.Request{})
	mustStartSending(t, e, d.ID, digests.StatusQueued)
	for _, id := range ids {
		e.MustRecord(t, d.ID, id, digests.Sent)
	}

	ctx := context.Background()
	var partitionKeys []string
	for _, p := range newsletter.AllPartitions() {
		keys, err := e.rdb.Keys(ctx, "nl:"+p.Tag()+":digest:"+d.ID+":*").Result()
		if err != nil {
			t.Fatal(err)
		}
		partitionKeys = append(partitionKeys, keys...)
	}
	if len(partitionKeys) == 0 {
		t.Fatal("the digest has no per-partition keys")
	}
	for _, k := range partitionKeys {
		if ttl := e.rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("%s expires in %s, want within the retention of 1h", k, ttl)
		}
	}
	if ttl := e.rdb.PTTL(ctx, "nl:{nl}:digest:"+d.ID).Val(); ttl != -1 {
		t.Errorf("the digest's hash expires in %s, want never", ttl)
	}

	for _, k := range partitionKeys { // as the retention would; one by one, as on a cluster
		if err := e.rdb.Del(ctx, k).Err(); err != nil {
			t.Fatal(err)
		}
	}
	got := e.MustGet(t, d.ID)
	if want := (digests.Counts{Total: 3, Sent: 3}); got.Counts != want || got.Status != digests.StatusSent {
		t.Errorf("after its per-recipient data expired: %s %+v, want sent %+v", got.Status, got.Counts, want)
	}
}
