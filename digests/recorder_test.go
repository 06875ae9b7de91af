package digests_test

import (
	"context"
	"fmt"
	"newsletter"
	"newsletter/subscribers"
	"testing"
	"time"

	"newsletter/digests"
)

// mustRecorder returns a sending digest of n recipients in one partition,
// their bits in it, and a Recorder of that partition, closed at cleanup.
func mustRecorder(tb testing.TB, e *env, n int) (*digests.Digest, []int64, *digests.Recorder) {
	tb.Helper()
	e.MustNewsletter(tb, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(tb, "daily", -time.Hour)
	ids := e.MustConfirmed(tb, "daily", addrsInOnePartition("reader", n)...)
	d := e.MustCreate(tb, "daily", digests.Request{})
	mustStartSending(tb, e, d.ID, digests.StatusQueued)
	r := e.svc.Store.Recorder(d.ID, newsletter.PartitionOf(ids[0]))
	tb.Cleanup(func() { r.Close() })
	bits := make([]int64, len(ids))
	for i, id := range ids {
		bits[i] = newsletter.BitOf(id)
	}
	return d, bits, r
}

func TestRecorderHoldsUntilFlush(t *testing.T) {
	e := MustEnv(t)
	d, ids, r := mustRecorder(t, e, 4)
	ctx, now := context.Background(), e.clock.Now()

	if n, since := r.Held(now); n != 0 || since < time.Hour {
		t.Fatalf("new Recorder: Held = %d, %v; want 0 and a long time since a flush", n, since)
	}
	if n, err := r.Flush(ctx, now); n != 0 || err != nil {
		t.Fatalf("Flush of nothing = %d, %v; want 0, nil", n, err)
	}
	r.Add(ids[0], digests.Sent)
	r.Add(ids[1], digests.Failed)
	r.Add(ids[0], digests.Failed) // a repeat within one flush counts once
	if got := e.MustGet(t, d.ID).Counts; got.Done() != 0 {
		t.Fatalf("Counts before Flush = %+v, want nothing recorded", got)
	}
	if n, _ := r.Held(now); n != 3 {
		t.Fatalf("Held = %d, want 3", n)
	}
	if n, err := r.Flush(ctx, now); n != 2 || err != nil {
		t.Fatalf("Flush = %d, %v; want 2 new, nil", n, err)
	}
	if n, since := r.Held(now.Add(time.Second)); n != 0 || since != time.Second {
		t.Fatalf("after Flush: Held = %d, %v; want 0, 1s", n, since)
	}
	r.Add(ids[1], digests.Sent) // recorded before: not counted again
	r.Add(ids[2], digests.Skipped)
	if n, err := r.Flush(ctx, now); n != 1 || err != nil {
		t.Fatalf("second Flush = %d, %v; want 1 new, nil", n, err)
	}
	want := digests.Counts{Total: 4, Sent: 1, Failed: 1, Skipped: 1}
	if got := e.MustGet(t, d.ID).Counts; got != want {
		t.Fatalf("Counts = %+v, want %+v", got, want)
	}
	if err := r.Finish(ctx, now); err != nil || e.MustGet(t, d.ID).Status != digests.StatusSending {
		t.Fatalf("Finish with one outcome missing: %v, status %s; want still sending", err, e.MustGet(t, d.ID).Status)
	}
	r.Add(ids[3], digests.Sent)
	if _, err := r.Flush(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := r.Finish(ctx, now); err != nil || e.MustGet(t, d.ID).Status != digests.StatusSent {
		t.Fatalf("Finish with every outcome in: %v, status %s; want sent", err, e.MustGet(t, d.ID).Status)
	}
}

func TestRecorderKeepsOutcomesWhenFlushFails(t *testing.T) {
	e := MustEnv(t)
	d, ids, r := mustRecorder(t, e, 2)
	ctx, now := context.Background(), e.clock.Now()

	done := digests.KeyDone(subscribers.PartitionOf("reader0@example.org"), d.ID) // mustRecorder's partition
	if err := e.rdb.Del(ctx, done).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.LPush(ctx, done, "not a bitmap").Err(); err != nil { // SETBIT fails on a list
		t.Fatal(err)
	}
	r.Add(ids[0], digests.Sent)
	r.Add(ids[1], digests.Sent)
	if _, err := r.Flush(ctx, now); err == nil {
		t.Fatal("Flush into a list: no error")
	}
	if n, _ := r.Held(now); n != 2 {
		t.Fatalf("after a failed Flush: Held = %d, want 2", n)
	}
	if err := e.rdb.Del(ctx, done).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Flush(ctx, now); n != 2 || err != nil {
		t.Fatalf("Flush after the fault = %d, %v; want 2, nil", n, err)
	}
	if got := e.MustGet(t, d.ID).Counts; got.Sent != 2 {
		t.Fatalf("Counts = %+v, want 2 sent", got)
	}
}

// TestRecorderOneSentOutcome covers the common flush, one sent message,
// which is a plain SETBIT: new once, a repeat after, counted as sent, and
// held still when it fails.
func TestRecorderOneSentOutcome(t *testing.T) {
	e := MustEnv(t)
	d, ids, r := mustRecorder(t, e, 2)
	ctx, now := context.Background(), e.clock.Now()
	for i, want := range []int{1, 0} {
		r.Add(ids[0], digests.Sent)
		if n, err := r.Flush(ctx, now); n != want || err != nil {
			t.Fatalf("Flush %d of the same sent outcome = %d, %v; want %d", i+1, n, err, want)
		}
	}
	if got := e.MustGet(t, d.ID).Counts; got != (digests.Counts{Total: 2, Sent: 1}) {
		t.Fatalf("Counts = %+v, want 1 sent of 2", got)
	}
	done := digests.KeyDone(subscribers.PartitionOf("reader0@example.org"), d.ID) // mustRecorder's partition
	raw, err := e.rdb.Get(ctx, done).Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.Del(ctx, done).Err(); err != nil {
		t.Fatal(err)
	}
	if err := e.rdb.LPush(ctx, done, "not a bitmap").Err(); err != nil {
		t.Fatal(err)
	}
	r.Add(ids[1], digests.Sent)
	if _, err := r.Flush(ctx, now); err == nil {
		t.Fatal("Flush into a list: no error")
	}
	if n, _ := r.Held(now); n != 1 {
		t.Fatalf("after a failed Flush: Held = %d, want 1", n)
	}
	if err := e.rdb.Set(ctx, done, raw, 0).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := r.Flush(ctx, now); n != 1 || err != nil {
		t.Fatalf("Flush after the fault = %d, %v; want 1", n, err)
	}
	if err := r.Finish(ctx, now); err != nil {
		t.Fatal(err)
	}
	if got := e.MustGet(t, d.ID); got.Counts != (digests.Counts{Total: 2, Sent: 2}) || got.Status != digests.StatusSent {
		t.Fatalf("digest = %s %+v, want sent with 2 sent", got.Status, got.Counts)
	}
}

// TestRecorderMixedOutcomesOneByOne records outcomes one flush each, as the
// default does: sent ones by their bit alone, failed and skipped ones
// counted too; the digest finishes with the last and not before.
func TestRecorderMixedOutcomesOneByOne(t *testing.T) {
	e := MustEnv(t)
	d, ids, r := mustRecorder(t, e, 4)
	ctx, now := context.Background(), e.clock.Now()
	for i, o := range []digests.Outcome{digests.Sent, digests.Failed, digests.Skipped, digests.Sent} {
		if err := r.Finish(ctx, now); err != nil || e.MustGet(t, d.ID).Status != digests.StatusSending {
			t.Fatalf("Finish before outcome %d: %v, status %s; want still sending", i+1, err, e.MustGet(t, d.ID).Status)
		}
		r.Add(ids[i], o)
		if n, err := r.Flush(ctx, now); n != 1 || err != nil {
			t.Fatalf("Flush of outcome %d (%s) = %d, %v; want 1", i+1, o, n, err)
		}
	}
	if err := r.Finish(ctx, now); err != nil {
		t.Fatal(err)
	}
	got := e.MustGet(t, d.ID)
	if want := (digests.Counts{Total: 4, Sent: 2, Failed: 1, Skipped: 1}); got.Counts != want || got.Status != digests.StatusSent {
		t.Fatalf("digest = %s %+v, want sent with %+v", got.Status, got.Counts, want)
	}
}

// BenchmarkRecorderFlush measures recording outcomes through a Recorder,
// each at once (NEWSLETTER_RECORD_EVERY=1, the default) and 8 at a time;
// ns/op is per outcome.
func BenchmarkRecorderFlush(b *testing.B) {
	for _, every := range []int64{1, 8} {
		b.Run(fmt.Sprintf("every=%d", every), func(b *testing.B) {
			e := MustEnv(b)
			_, _, r := mustRecorder(b, e, 1)
			ctx, now := context.Background(), e.clock.Now()
			b.ReportAllocs()
			bit := int64(0)
			for b.Loop() {
				bit++
				r.Add(bit, digests.Sent)
				if bit%every == 0 {
					if _, err := r.Flush(ctx, now); err != nil {
						b.Fatalf("Flush: %v", err)
					}
				}
			}
		})
	}
}
