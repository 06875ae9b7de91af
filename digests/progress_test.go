package digests_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/digests"
	"newsletter/subscribers"
)

func TestPlanCoversAudienceOnce(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -time.Hour)
	emails := addrs("reader", 1234)
	ids := e.MustConfirmed(t, "daily", emails...)
	d := e.MustCreate(t, "daily", digests.Request{})

	plan, err := e.svc.Store.Plan(context.Background(), d)
	if err != nil {
		t.Fatal(err)
	}
	// Each partition's subscribers, by bit, in batches of up to 500 of
	// one partition.
	bits := map[newsletter.Partition][]int64{}
	for _, id := range ids {
		bits[newsletter.PartitionOf(id)] = append(bits[newsletter.PartitionOf(id)], newsletter.BitOf(id))
	}
	var want []digests.Batch
	for _, p := range newsletter.AllPartitions() {
		sorted := slices.Sorted(slices.Values(bits[p]))
		for i := 0; i < len(sorted); i += digests.BatchSize {
			last := min(i+digests.BatchSize, len(sorted)) - 1
			want = append(want, digests.Batch{Digest: d.ID, Partition: p, Start: sorted[i], Stop: sorted[last]})
		}
	}
	if diff := cmp.Diff(want, plan); diff != "" {
		t.Fatalf("plan (-want +got):\n%s", diff)
	}
	seen := map[int64]int{}
	for _, r := range e.MustRecipients(t, d) {
		seen[r.SubscriberID]++
		if r.Done || r.Gone || r.Bit != newsletter.BitOf(r.SubscriberID) {
			t.Fatalf("fresh recipient %+v: want not done, not gone, bit = the id's bit", r)
		}
	}
	for _, id := range ids {
		if seen[id] != 1 {
			t.Fatalf("subscriber %d is in the plan %d times, want 1", id, seen[id])
		}
	}
	if len(seen) != len(ids) {
		t.Fatalf("plan has %d subscribers, want %d", len(seen), len(ids))
	}
}

func TestRecipientsMarksGoneAndDone(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -time.Hour)
	emails := addrsInOnePartition("reader", 4) // one batch, in the order of their ids
	ids := e.MustConfirmed(t, "daily", emails...)
	d := e.MustCreate(t, "daily", digests.Request{})

	ctx := context.Background()
	if _, err := e.subs.Unsubscribe(ctx, e.signer.UnsubscribeToken(ids[1], "daily"), subscribers.RequestMeta{}); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	if err := e.subs.Erase(ctx, emails[2]); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	if !e.MustRecord(t, d.ID, ids[3], digests.Sent) {
		t.Fatalf("first Record = false, want true")
	}

	want := []digests.Recipient{
		{Bit: newsletter.BitOf(ids[0]), SubscriberID: ids[0], Email: emails[0], Name: "Reader " + emails[0]},
		{Bit: newsletter.BitOf(ids[1]), SubscriberID: ids[1], Email: emails[1], Name: "Reader " + emails[1], Gone: true},
		{Bit: newsletter.BitOf(ids[2]), SubscriberID: ids[2], Gone: true},
		{Bit: newsletter.BitOf(ids[3]), SubscriberID: ids[3], Email: emails[3], Name: "Reader " + emails[3], Done: true},
	}
	if diff := cmp.Diff(want, e.MustRecipients(t, d)); diff != "" {
		t.Fatalf("recipients (-want +got):\n%s", diff)
	}
}

// MustQueued returns a fresh digest of newsletter daily with n recipients
// and their bits.
func MustQueued(tb testing.TB, e *env, n int) (*digests.Digest, []int64) {
	tb.Helper()
	e.MustNewsletter(tb, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(tb, "daily", -time.Hour)
	ids := e.MustConfirmed(tb, "daily", addrs("reader", n)...)
	return e.MustCreate(tb, "daily", digests.Request{}), ids
}

func TestRecordCountsEachRecipientOnce(t *testing.T) {
	e := MustEnv(t)
	d, ids := MustQueued(t, e, 3)
	if !e.MustRecord(t, d.ID, ids[0], digests.Sent) {
		t.Fatalf("first Record = false, want true")
	}
	for _, o := range []digests.Outcome{digests.Sent, digests.Failed, digests.Skipped} {
		if e.MustRecord(t, d.ID, ids[0], o) {
			t.Fatalf("repeated Record(%s) = true, want false", o)
		}
	}
	e.MustRecord(t, d.ID, ids[1], digests.Failed)
	want := digests.Counts{Total: 3, Sent: 1, Failed: 1}
	if got := e.MustGet(t, d.ID).Counts; got != want {
		t.Fatalf("Counts = %+v, want %+v", got, want)
	}
}

func TestRecordFinishesSendingDigest(t *testing.T) {
	tests := []struct {
		name       string
		startFirst bool
		// statuses after each of the three outcomes, then after StartSending
		want []digests.Status
	}{
		{"sending", true, []digests.Status{"sending", "sending", "sent", "sent"}},
		{"queued", false, []digests.Status{"queued", "queued", "queued", "sent"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t)
			d, ids := MustQueued(t, e, 3)
			ctx := context.Background()
			if tt.startFirst {
				mustStartSending(t, e, d.ID, digests.StatusQueued)
			}
			var got []digests.Status
			outcomes := []digests.Outcome{digests.Sent, digests.Failed, digests.Skipped}
			for i, id := range ids {
				e.clock.Set(t0.Add(time.Duration(i+1) * time.Minute))
				e.MustRecord(t, d.ID, id, outcomes[i])
				got = append(got, e.MustGet(t, d.ID).Status)
			}
			if _, err := e.svc.Store.StartSending(ctx, d.ID, t0.Add(time.Hour)); err != nil {
				t.Fatalf("StartSending: %v", err)
			}
			final := e.MustGet(t, d.ID)
			got = append(got, final.Status)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Fatalf("statuses (-want +got):\n%s", diff)
			}
			wantFinished := t0.Add(3 * time.Minute) // the last outcome
			if !tt.startFirst {
				wantFinished = t0.Add(time.Hour) // StartSending
			}
			if final.FinishedAt == nil || !final.FinishedAt.Equal(wantFinished) {
				t.Fatalf("FinishedAt = %v, want %v", final.FinishedAt, wantFinished)
			}
			if want := (digests.Counts{Total: 3, Sent: 1, Failed: 1, Skipped: 1}); final.Counts != want {
				t.Fatalf("Counts = %+v, want %+v", final.Counts, want)
			}
		})
	}
}

func mustStartSending(tb testing.TB, e *env, id string, wantPrev digests.Status) {
	tb.Helper()
	prev, err := e.svc.Store.StartSending(context.Background(), id, e.clock.Now())
	if err != nil || prev != wantPrev {
		tb.Fatalf("StartSending = %q, %v; want %q", prev, err, wantPrev)
	}
}

func TestStartSendingWithoutRecipients(t *testing.T) {
	e := MustEnv(t)
	d, _ := MustQueued(t, e, 0)
	if d.Counts.Total != 0 {
		t.Fatalf("Counts.Total = %d, want 0", d.Counts.Total)
	}
	mustStartSending(t, e, d.ID, digests.StatusQueued)
	got := e.MustGet(t, d.ID)
	if got.Status != digests.StatusSent || got.FinishedAt == nil {
		t.Fatalf("status %s, finished %v; want sent with finished_at", got.Status, got.FinishedAt)
	}
}

func TestCancel(t *testing.T) {
	e := MustEnv(t)
	d, ids := MustQueued(t, e, 2)
	ctx := context.Background()
	mustStartSending(t, e, d.ID, digests.StatusQueued)
	e.MustRecord(t, d.ID, ids[0], digests.Sent)

	e.clock.Set(t0.Add(time.Minute))
	got, err := e.svc.Cancel(ctx, d.ID)
	if err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if got.Status != digests.StatusCanceled || got.FinishedAt == nil || !got.FinishedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("canceled digest: status %s, finished %v; want canceled at %v", got.Status, got.FinishedAt, t0.Add(time.Minute))
	}

	e.clock.Set(t0.Add(2 * time.Minute))
	e.MustRecord(t, d.ID, ids[1], digests.Sent) // a batch that was mid-send
	mustStartSending(t, e, d.ID, digests.StatusCanceled)
	after := e.MustGet(t, d.ID)
	if after.Status != digests.StatusCanceled || !after.FinishedAt.Equal(t0.Add(time.Minute)) {
		t.Fatalf("after Record: status %s, finished %v; want canceled at %v", after.Status, after.FinishedAt, t0.Add(time.Minute))
	}
}

func TestUnknownDigest(t *testing.T) {
	e := MustEnv(t)
	ctx := context.Background()
	_, err := e.svc.Cancel(ctx, "0123456789abcdef01234567")
	wantCode(t, err, newsletter.ENOTFOUND, "")
	_, err = e.svc.Get(ctx, "0123456789abcdef01234567")
	wantCode(t, err, newsletter.ENOTFOUND, "")
	if n := e.mustDigestHashes(t); n != 0 {
		t.Fatalf("Cancel of an unknown digest left %d digest hashes", n)
	}
}
