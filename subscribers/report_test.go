package subscribers_test

import (
	"context"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
)

// suppressedAs returns the source of addr's suppression, "" when none.
func suppressedAs(t *testing.T, e *env, addr string) string {
	t.Helper()
	list, _, err := e.svc.Suppressions(context.Background(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range list {
		if s.Email == addr {
			return s.Source
		}
	}
	return ""
}

// TestSoftBouncesSuppressAtTheThirdInAMonth: two soft bounces leave the
// address alone, the third within 30 days suppresses it; bounces older
// than the window do not count.
func TestSoftBouncesSuppressAtTheThirdInAMonth(t *testing.T) {
	e := MustEnv(t, "daily")
	ctx := context.Background()
	soft := subscribers.Report{Email: "full@example.org", Type: subscribers.BounceSoft, Reason: "452 4.2.2 mailbox full", Channel: "inbound"}
	for i, at := range []time.Duration{0, 40 * 24 * time.Hour, 50 * 24 * time.Hour} {
		e.SetClock(e.start.Add(at))
		out, err := e.svc.Report(ctx, soft)
		if err != nil || out.Suppressed {
			t.Fatalf("soft bounce %d: %+v, %v; want counted, not suppressed", i+1, out, err)
		}
	}
	e.SetClock(e.start.Add(60 * 24 * time.Hour))
	out, err := e.svc.Report(ctx, soft)
	if err != nil || !out.Suppressed || out.SoftBounces != 3 {
		t.Fatalf("the third soft bounce within 30 days: %+v, %v", out, err)
	}
	if src := suppressedAs(t, e, "full@example.org"); src != subscribers.SourceBounce {
		t.Fatalf("suppressed as %q", src)
	}
}

// TestHardBounceAndComplaint: a hard bounce suppresses at once; a
// complaint ends the subscription to the newsletter the message came from
// (with a consent record), leaves the others, and suppresses with source
// complaint.
func TestHardBounceAndComplaint(t *testing.T) {
	e := MustEnv(t, "daily", "weekly")
	ctx := context.Background()
	if out, err := e.svc.Report(ctx, subscribers.Report{Email: "gone@example.org", Type: subscribers.BounceHard, Reason: "550 5.1.1"}); err != nil || !out.Suppressed {
		t.Fatalf("hard bounce: %+v, %v", out, err)
	}
	MustConfirm(t, e, MustSubscribe(t, e, "angry@example.org", "daily", "weekly").Token)
	out, err := e.svc.Report(ctx, subscribers.Report{Email: "angry@example.org", Type: subscribers.BounceComplaint, Newsletter: "daily", Reason: "abuse"})
	if err != nil || !out.Suppressed || !out.Unsubscribed {
		t.Fatalf("complaint: %+v, %v", out, err)
	}
	if st := MustStatus(t, e, "angry@example.org", "daily"); st != newsletter.StatusUnsubscribed {
		t.Fatalf("after a complaint daily is %s", st)
	}
	if st := MustStatus(t, e, "angry@example.org", "weekly"); st != newsletter.StatusConfirmed {
		t.Fatalf("a complaint about daily changed weekly: %s", st)
	}
	sub := MustLookup(t, e, "angry@example.org")
	if last := sub.Consent[len(sub.Consent)-1]; last.Action != subscribers.ActionUnsubscribe || last.Source != "complaint" {
		t.Fatalf("the complaint's consent record: %+v", last)
	}
	if src := suppressedAs(t, e, "angry@example.org"); src != subscribers.SourceComplaint {
		t.Fatalf("suppressed as %q", src)
	}
	if _, err := e.svc.Report(ctx, subscribers.Report{Email: "x@example.org", Type: "weird"}); newsletter.ErrorCode(err) != newsletter.EINVALID {
		t.Fatalf("an unknown type: %v", err)
	}
}
