package digests_test

import (
	"context"
	"errors"
	"newsletter"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter/digests"
)

func TestCreateIdempotencyKey(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustNewsletter(t, newsletter.Newsletter{ID: "weekly", Name: "Weekly"})
	e.MustArticles(t, "daily", -time.Hour)
	e.MustArticles(t, "weekly", -time.Hour)
	ctx := context.Background()
	req := digests.Request{IdempotencyKey: "issue-42"}

	first := e.MustCreate(t, "daily", req)
	e.clock.Set(t0.Add(time.Hour)) // no article is new any more
	again, created, err := e.svc.Create(ctx, "daily", req)
	if err != nil || created {
		t.Fatalf("second Create = created %v, %v; want false, nil", created, err)
	}
	if again.ID != first.ID {
		t.Fatalf("second Create id = %s, want %s", again.ID, first.ID)
	}
	if diff := cmp.Diff([]string{first.ID}, e.disp.IDs()); diff != "" {
		t.Fatalf("dispatched (-want +got):\n%s", diff)
	}

	concurrentCreates(t, e, "weekly", req) // the same key, another newsletter
	dispatched := e.disp.IDs()
	if len(dispatched) != 2 {
		t.Fatalf("dispatched %v, want the daily and one weekly digest", dispatched)
	}
	if other := e.MustGet(t, dispatched[1]); other.Newsletter != "weekly" {
		t.Fatalf("second digest is of %s, want weekly", other.Newsletter)
	}
	if n := e.MustDigestCount(t, "daily"); n != 1 {
		t.Fatalf("daily has %d digests, want 1", n)
	}
}

// concurrentCreates creates a digest of nl from 5 goroutines at once with
// the same request and checks that one digest came of it.
func concurrentCreates(tb testing.TB, e *env, nl string, req digests.Request) {
	tb.Helper()
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		ids     = map[string]bool{}
		created int
	)
	for range 5 {
		wg.Go(func() {
			d, c, err := e.svc.Create(context.Background(), nl, req)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				tb.Errorf("Create: %v", err)
				return
			}
			ids[d.ID] = true
			if c {
				created++
			}
		})
	}
	wg.Wait()
	if len(ids) != 1 || created != 1 {
		tb.Fatalf("concurrent Creates made digests %v, %d reported created; want one", ids, created)
	}
}

// TestCreateSameKeyWhileDrafting lets a request with the same key create
// its digest, taking the articles, while this one is choosing them: the
// clock is read when drafting starts.
func TestCreateSameKeyWhileDrafting(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -time.Hour)
	req := digests.Request{IdempotencyKey: "issue-42"}
	var first *digests.Digest
	racing := *e.svc
	racing.Now = func() time.Time {
		if first == nil {
			first = e.MustCreate(t, "daily", req)
		}
		return e.clock.Now()
	}
	d, created, err := racing.Create(context.Background(), "daily", req)
	if err != nil || created || d.ID != first.ID {
		t.Fatalf("Create = %v, created %v, %v; want the first digest %s, false, nil", d, created, err, first.ID)
	}
}

func TestCreateDispatchFailureLosesNothing(t *testing.T) {
	tests := []struct {
		name      string
		before    bool // whether a digest went out at t0
		wantSince time.Time
	}{
		{"first digest", false, t0.Add(2*time.Hour - 24*time.Hour)},
		{"after a digest", true, t0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t)
			e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
			e.MustArticles(t, "daily", -time.Hour)
			if tt.before {
				e.MustCreate(t, "daily", digests.Request{})
			}
			e.clock.Set(t0.Add(time.Hour))
			want := urls(e.MustArticles(t, "daily", -time.Minute))
			e.disp.FailWith(errors.New("queue unavailable"))
			d, _, err := e.svc.Create(context.Background(), "daily", digests.Request{IdempotencyKey: "k"})
			if err == nil {
				t.Fatalf("Create with a failing dispatcher = %v, nil; want an error", d.ID)
			}
			mustNewestFailed(t, e)

			e.disp.FailWith(nil)
			e.clock.Set(t0.Add(2 * time.Hour))
			d = e.MustCreate(t, "daily", digests.Request{IdempotencyKey: "k"})
			if diff := cmp.Diff(want, urls(d.Articles)[:1]); diff != "" || !d.Since.Equal(tt.wantSince) {
				t.Fatalf("retry since %v, want %v; articles (-want +got):\n%s", d.Since, tt.wantSince, diff)
			}
		})
	}
}

// mustNewestFailed checks that the newest digest of daily is failed, so that
// it is never sent.
func mustNewestFailed(tb testing.TB, e *env) {
	tb.Helper()
	ids, err := e.rdb.ZRange(context.Background(), "nl:{nl}:digests:daily", -1, -1).Result()
	if err != nil || len(ids) != 1 {
		tb.Fatalf("newest digest = %v, %v", ids, err)
	}
	if got := e.MustGet(tb, ids[0]); got.Status != digests.StatusFailed || got.FinishedAt == nil {
		tb.Fatalf("undispatched digest: %s, finished %v; want failed", got.Status, got.FinishedAt)
	}
}
