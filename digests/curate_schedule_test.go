package digests_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/digests"
)

// scheduler is a Dispatcher and Scheduler that records when each digest
// was scheduled for.
type scheduler struct {
	dispatcher
	mu sync.Mutex
	at map[string]time.Time
}

func (s *scheduler) ScheduleDigest(_ context.Context, id string, at time.Time) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.at[id] = at
	return nil
}

func (s *scheduler) When(id string) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.at[id]
}

// mustScheduling gives e's service a dispatcher that schedules.
func (e *env) mustScheduling() *scheduler {
	s := &scheduler{at: map[string]time.Time{}}
	e.svc.Dispatcher = s
	return s
}

func TestSendAtRefused(t *testing.T) {
	e := MustEnv(t)
	e.mustScheduling()
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -time.Hour)
	tests := []struct {
		name string
		req  digests.Request
	}{
		{"in the past", digests.Request{SendAt: t0.Add(-time.Minute)}},
		{"now", digests.Request{SendAt: t0}},
		{"over 90 days ahead", digests.Request{SendAt: t0.Add(digests.MaxScheduleAhead + time.Minute)}},
		{"a test", digests.Request{SendAt: t0.Add(time.Hour), TestRecipients: []string{"editor@example.org"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := e.svc.Create(context.Background(), "daily", tt.req)
			wantCode(t, err, newsletter.EINVALIDDIGEST, "send_at")
		})
	}
	if got := e.MustDigestCount(t, "daily"); got != 0 {
		t.Fatalf("%d digests stored, want none", got)
	}
}

// TestScheduledDigestFreezesAudienceAtStart: a scheduled digest is queued
// for its send_at with no audience yet; readers who confirm before it
// starts get it, as its audience is frozen then.
func TestScheduledDigestFreezesAudienceAtStart(t *testing.T) {
	e := MustEnv(t)
	sched := e.mustScheduling()
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustConfirmed(t, "daily", "ann@example.org")
	e.MustArticles(t, "daily", -time.Hour)
	at := t0.Add(2 * time.Hour)
	d := e.MustCreate(t, "daily", digests.Request{SendAt: at})
	if got := sched.When(d.ID); !got.Equal(at) || len(sched.IDs()) != 0 {
		t.Fatalf("scheduled for %v (dispatched at once: %v), want %v only", got, sched.IDs(), at)
	}
	got := e.MustGet(t, d.ID)
	if got.Status != digests.StatusQueued || got.SendAt == nil || !got.SendAt.Equal(at) || got.Counts.Total != 0 {
		t.Fatalf("scheduled digest = %s, send_at %v, total %d; want queued, %v, no audience yet", got.Status, got.SendAt, got.Counts.Total, at)
	}
	list, err := e.svc.Scheduled(context.Background(), "daily")
	if err != nil || len(list) != 1 || list[0].ID != d.ID {
		t.Fatalf("Scheduled = %v, %v; want the digest", list, err)
	}

	ids := e.MustConfirmed(t, "daily", "bob@example.org")
	if err := e.svc.FreezeScheduled(context.Background(), d.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.MustGet(t, d.ID); got.Counts.Total != 2 {
		t.Fatalf("total after the start = %d, want 2", got.Counts.Total)
	}
	var who []int64
	for _, r := range e.MustRecipients(t, e.MustGet(t, d.ID)) {
		who = append(who, r.SubscriberID)
	}
	if len(who) != 2 || !contains(who, ids[0]) {
		t.Fatalf("recipients %v, want 2 with the reader confirmed before the start (%d)", who, ids[0])
	}
	e.MustConfirmed(t, "daily", "cy@example.org")
	if err := e.svc.FreezeScheduled(context.Background(), d.ID); err != nil { // a retried start
		t.Fatal(err)
	}
	if got := e.MustGet(t, d.ID); got.Counts.Total != 2 {
		t.Fatalf("total after a second start = %d, want 2: the audience is frozen once", got.Counts.Total)
	}
	if list, err := e.svc.Scheduled(context.Background(), "daily"); err != nil || len(list) != 0 {
		t.Fatalf("Scheduled after the start = %v, %v; want none", list, err)
	}
}

// TestCanceledScheduledDigestGivesArticlesBack: a scheduled digest canceled
// before its time never gets an audience, leaves the scheduled list, and
// the next digest takes its articles.
func TestCanceledScheduledDigestGivesArticlesBack(t *testing.T) {
	e := MustEnv(t)
	e.mustScheduling()
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustConfirmed(t, "daily", "ann@example.org")
	arts := e.MustArticles(t, "daily", -time.Hour, -2*time.Hour)
	d := e.MustCreate(t, "daily", digests.Request{SendAt: t0.Add(time.Hour)})
	e.clock.Set(t0.Add(time.Minute))
	got, err := e.svc.Cancel(context.Background(), d.ID)
	if err != nil || got.Status != digests.StatusCanceled {
		t.Fatalf("Cancel = %v, %v; want canceled", got, err)
	}
	if err := e.svc.FreezeScheduled(context.Background(), d.ID); err != nil { // its task fires anyway
		t.Fatal(err)
	}
	if got := e.MustGet(t, d.ID); got.Status != digests.StatusCanceled || got.Counts.Total != 0 {
		t.Fatalf("after its time: %s with %d recipients, want canceled with none", got.Status, got.Counts.Total)
	}
	if list, err := e.svc.Scheduled(context.Background(), "daily"); err != nil || len(list) != 0 {
		t.Fatalf("Scheduled = %v, %v; want none", list, err)
	}
	next := e.MustCreate(t, "daily", digests.Request{})
	if diff := cmp.Diff(urls(arts), urls(next.Articles)); diff != "" {
		t.Fatalf("next digest's articles (-want +got):\n%s", diff)
	}
}

func contains(list []int64, v int64) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
