package delivery

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"newsletter/digests"
	"newsletter/internal/redistest"
)

// recordRig is a batch run of digest id with no SMTP, whose outcomes go to
// the package's Redis database, and an Engine with RecordEvery every.
func recordRig(t *testing.T, id string, every int) (e *Engine, run *batchRun, sent func() int64) {
	t.Helper()
	rdb := redistest.Client(t)
	e = &Engine{Logger: slog.New(slog.DiscardHandler), RecordEvery: every}
	run = &batchRun{d: &digests.Digest{ID: id}, recorder: digests.NewStore(rdb).Recorder(id, 0)}
	t.Cleanup(run.close)
	sent = func() int64 {
		t.Helper()
		n, err := rdb.BitCount(context.Background(), "nl:{r00}:digest:"+id+":done", nil).Result() // all outcomes here are sent
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	return e, run, sent
}

func TestRecordHoldsOutcomesBriefly(t *testing.T) {
	const every = 8
	e, run, sent := recordRig(t, "held", every)
	ctx := context.Background()
	add := func(bit int64, at time.Time) {
		t.Helper()
		run.recorder.Add(bit, digests.Sent)
		if err := e.flushIfDue(ctx, run, at); err != nil {
			t.Fatal(err)
		}
	}

	t0 := time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)
	add(1, t0)
	if n := sent(); n != 1 {
		t.Fatalf("a run's first outcome: %d recorded, want 1 at once", n)
	}
	for bit := int64(2); bit <= every; bit++ {
		add(bit, t0.Add(time.Millisecond))
	}
	if n := sent(); n != 1 {
		t.Fatalf("%d more outcomes within recordWithin: %d recorded, want them held", every-1, n)
	}
	add(every+1, t0.Add(time.Millisecond))
	if n := sent(); n != every+1 {
		t.Fatalf("the %dth held outcome: %d recorded, want all %d", every, n, every+1)
	}
	t1 := t0.Add(time.Millisecond)
	add(every+2, t1.Add(recordWithin-time.Millisecond))
	if n := sent(); n != every+1 {
		t.Fatalf("one outcome before recordWithin passed: %d recorded, want it held", n)
	}
	if err := e.flushIfDue(ctx, run, t1.Add(recordWithin)); err != nil { // before the next message
		t.Fatal(err)
	}
	if n := sent(); n != every+2 {
		t.Fatalf("recordWithin after the last record: %d recorded, want all %d", n, every+2)
	}
}

func TestRecordEachOutcomeByDefault(t *testing.T) {
	e, run, sent := recordRig(t, "each", 0) // RecordEvery 0: each at once
	for bit := int64(1); bit <= 3; bit++ {
		if err := e.record(context.Background(), run, bit, digests.Sent); err != nil {
			t.Fatal(err)
		}
		if n := sent(); n != bit {
			t.Fatalf("after outcome %d: %d recorded, want %d", bit, n, bit)
		}
	}
}
