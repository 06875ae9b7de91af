package digests_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/digests"
)

// TestScheduledDigestIsDatedBySendAt: a digest scheduled days ahead has
// the date it goes out in its default subject and in its email, not the
// date it was made.
func TestScheduledDigestIsDatedBySendAt(t *testing.T) {
	e := MustEnv(t)
	e.mustScheduling()
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -time.Hour)
	at := time.Date(2026, 3, 18, 7, 0, 0, 0, time.UTC)
	d := e.MustCreate(t, "daily", digests.Request{SendAt: at})
	if want := "Daily — March 18, 2026"; d.Subject != want {
		t.Fatalf("subject = %q, want %q", d.Subject, want)
	}
	b := mustRender(t, e.MustGet(t, d.ID), "")
	if !strings.Contains(b.Text, "March 18, 2026") || strings.Contains(b.Text, "March 15, 2026") {
		t.Fatalf("email text does not carry the send_at date, March 18:\n%s", b.Text)
	}
}

// TestIdempotentRetryAfterSendAt: a retry with the same Idempotency-Key
// after the first request's send_at has passed gets the first digest, not
// a complaint about send_at.
func TestIdempotentRetryAfterSendAt(t *testing.T) {
	e := MustEnv(t)
	e.mustScheduling()
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -time.Hour)
	req := digests.Request{SendAt: t0.Add(time.Hour), IdempotencyKey: "issue-7"}
	first := e.MustCreate(t, "daily", req)
	e.clock.Set(t0.Add(2 * time.Hour))
	again, created, err := e.svc.Create(context.Background(), "daily", req)
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("retry = %v, created %v, %v; want digest %s, not created", again, created, err, first.ID)
	}
}

// TestCancelScheduledInOrderGivesAllArticlesBack: two scheduled digests
// canceled in the order they were made both give their articles back; so
// do two canceled in the other order, and a digest sent in between keeps
// what it took.
func TestCancelScheduledInOrderGivesAllArticlesBack(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name      string
		cancel    []int           // indexes of the scheduled digests, in cancel order
		sentAfter int             // index after which a digest goes out at once, or -1
		want      []time.Duration // the next digest's articles, by when they came out after t0
	}{
		{"first then second", []int{0, 1}, -1, []time.Duration{3 * h / 2, h / 2, -5 * h / 2}},
		{"second then first", []int{1, 0}, -1, []time.Duration{3 * h / 2, h / 2, -5 * h / 2}},
		{"one sent in between", []int{0, 1}, 0, []time.Duration{3 * h / 2, h / 2}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t)
			e.mustScheduling()
			e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
			e.MustArticles(t, "daily", -5*h/2)
			var ids []string
			for i := range 2 {
				if i > 0 {
					e.clock.Set(t0.Add(time.Duration(i) * h))
					e.MustArticles(t, "daily", -h/2)
				}
				ids = append(ids, e.MustCreate(t, "daily", digests.Request{SendAt: t0.Add(10 * h)}).ID)
				if tt.sentAfter == i {
					e.clock.Set(t0.Add(time.Duration(i)*h + 10*time.Minute))
					e.MustArticles(t, "daily", -5*time.Minute)
					e.MustCreate(t, "daily", digests.Request{})
				}
			}
			e.clock.Set(t0.Add(2 * h))
			e.MustArticles(t, "daily", -h/2)
			for _, i := range tt.cancel {
				if _, err := e.svc.Cancel(context.Background(), ids[i]); err != nil {
					t.Fatal(err)
				}
			}
			next := e.MustCreate(t, "daily", digests.Request{})
			var want []string
			for _, off := range tt.want {
				want = append(want, articleURL("daily", t0.Add(off)))
			}
			if diff := cmp.Diff(want, urls(next.Articles)); diff != "" {
				t.Fatalf("next digest's articles (-want +got):\n%s", diff)
			}
		})
	}
}

// TestScheduledDigestTooLateIsNotSent: a scheduled digest whose start
// comes more than max_lateness after its send_at (the workers were down)
// fails with a last error saying why, and the next digest gets its
// articles; one within max_lateness starts as usual.
func TestScheduledDigestTooLateIsNotSent(t *testing.T) {
	e := MustEnv(t)
	e.mustScheduling()
	for _, id := range []string{"daily", "weekly"} {
		e.MustNewsletter(t, newsletter.Newsletter{ID: id, Name: id, MaxLateness: "2h"})
		e.MustConfirmed(t, id, id+"@example.org")
	}
	e.clock.Set(t0.Add(-2 * time.Hour))
	e.MustArticles(t, "daily", -time.Hour)
	e.MustCreate(t, "daily", digests.Request{}) // sent: the cutoff is t0-2h
	e.clock.Set(t0)
	arts := e.MustArticles(t, "daily", -time.Hour)
	e.MustArticles(t, "weekly", -time.Hour)
	at := t0.Add(time.Hour)
	late := e.MustCreate(t, "daily", digests.Request{SendAt: at})
	onTime := e.MustCreate(t, "weekly", digests.Request{SendAt: at})

	e.clock.Set(at.Add(2*time.Hour - time.Minute))
	if err := e.svc.FreezeScheduled(context.Background(), onTime.ID); err != nil {
		t.Fatalf("FreezeScheduled within max_lateness: %v", err)
	}
	if got := e.MustGet(t, onTime.ID); got.Status != digests.StatusQueued || got.Counts.Total != 1 {
		t.Fatalf("on time: %s with %d recipients, want queued with 1", got.Status, got.Counts.Total)
	}

	e.clock.Set(at.Add(3 * 24 * time.Hour))
	if err := e.svc.FreezeScheduled(context.Background(), late.ID); !errors.Is(err, digests.ErrTooLate) {
		t.Fatalf("FreezeScheduled days late = %v, want ErrTooLate", err)
	}
	got := e.MustGet(t, late.ID)
	if got.Status != digests.StatusFailed || got.Counts.Total != 0 || got.LastError == nil ||
		!strings.Contains(got.LastError.Message, "max_lateness") {
		t.Fatalf("late digest: %s with %d recipients, last error %+v; want failed, none, about max_lateness",
			got.Status, got.Counts.Total, got.LastError)
	}
	if err := e.svc.FreezeScheduled(context.Background(), late.ID); err != nil { // a retried task
		t.Fatalf("second FreezeScheduled = %v, want nil", err)
	}
	next := e.MustCreate(t, "daily", digests.Request{})
	if diff := cmp.Diff(urls(arts), urls(next.Articles)); diff != "" {
		t.Fatalf("next digest's articles (-want +got):\n%s", diff)
	}
}
