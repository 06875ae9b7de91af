package subscribers_test

import (
	"slices"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
)

// standing returns the status and unsubscribe time of each subscription of
// c, by newsletter, for comparing.
func standing(c *subscribers.Confirmation) map[string]string {
	out := map[string]string{}
	for _, s := range c.Subscriptions {
		v := string(s.Status)
		if s.UnsubscribedAt != nil {
			v += " " + s.UnsubscribedAt.UTC().Format(time.RFC3339)
		}
		out[s.Newsletter] = v
	}
	return out
}

func wantStanding(t *testing.T, c *subscribers.Confirmation, want map[string]string) {
	t.Helper()
	got := standing(c)
	if len(got) != len(want) {
		t.Fatalf("standing = %v, want %v", got, want)
	}
	for nl, w := range want {
		if got[nl] != w {
			t.Fatalf("standing = %v, want %v", got, want)
		}
	}
}

// TestConfirmAfterUnsubscribe checks that an old confirmation link tells the
// truth once the reader has left: it neither confirms again nor claims to.
func TestConfirmAfterUnsubscribe(t *testing.T) {
	e := MustEnv(t, "daily", "weekly")
	signer, err := subscribers.NewSigner([]string{"test secret of enough length"})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Signer = signer
	c := MustSubscribe(t, e, "a@example.org", "daily", "weekly")

	before := MustDumpDB(t, e.rdb)
	look, err := e.svc.Confirmation(ctx, c.Token)
	if err != nil {
		t.Fatalf("Confirmation: %v", err)
	}
	if diff := diffDumps(before, MustDumpDB(t, e.rdb)); diff != "" {
		t.Errorf("Confirmation changed the database:\n%s", diff)
	}
	if look.Email != "a@example.org" || look.Used || !look.Confirmable() {
		t.Fatalf("Confirmation = %+v, want a@example.org, unused, confirmable", look)
	}
	wantStanding(t, look, map[string]string{"daily": "pending", "weekly": "pending"})

	if got := MustConfirm(t, e, c.Token); !slices.Equal(got, []string{"daily", "weekly"}) {
		t.Fatalf("Confirm = %q, want both", got)
	}
	left := e.start.Add(26 * time.Hour)
	e.SetClock(left)
	if _, err := e.svc.Unsubscribe(ctx, signer.UnsubscribeToken(c.SubscriberID, "daily"), subscribers.RequestMeta{}); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	consent := len(MustLookup(t, e, "a@example.org").Consent)

	e.SetClock(left.Add(time.Hour))
	got, err := e.svc.ConfirmToken(ctx, c.Token, subscribers.RequestMeta{})
	if err != nil {
		t.Fatalf("ConfirmToken after unsubscribe: %v", err)
	}
	wantStanding(t, got, map[string]string{"daily": "unsubscribed " + left.UTC().Format(time.RFC3339), "weekly": "confirmed"})
	if nls := MustConfirm(t, e, c.Token); !slices.Equal(nls, []string{"weekly"}) {
		t.Fatalf("Confirm after unsubscribing from daily = %q, want [weekly] only", nls)
	}
	if st := MustStatus(t, e, "a@example.org", "daily"); st != newsletter.StatusUnsubscribed {
		t.Fatalf("daily = %q after the old link, want unsubscribed", st)
	}
	if n := len(MustLookup(t, e, "a@example.org").Consent); n != consent {
		t.Errorf("the old link added %d consent records", n-consent)
	}
	MustWelcomed(t, e, "daily", "weekly")

	if _, err := e.svc.Unsubscribe(ctx, signer.UnsubscribeToken(c.SubscriberID, "weekly"), subscribers.RequestMeta{}); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	if nls := MustConfirm(t, e, c.Token); nls != nil {
		t.Fatalf("Confirm after unsubscribing from both = %q, want none", nls)
	}
	look, err = e.svc.Confirmation(ctx, c.Token)
	if err != nil || look.Confirmable() || !look.Used {
		t.Fatalf("Confirmation = %+v, %v; want used and not confirmable", look, err)
	}
	if nls := look.Newsletters(newsletter.StatusUnsubscribed); !slices.Equal(nls, []string{"daily", "weekly"}) {
		t.Fatalf("unsubscribed = %q, want both", nls)
	}
}

// TestOldLinkAfterSigningUpAgain checks that a used link does not confirm a
// later signup: that one waits for its own link.
func TestOldLinkAfterSigningUpAgain(t *testing.T) {
	e := MustEnv(t, "daily")
	signer, err := subscribers.NewSigner([]string{"test secret of enough length"})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Signer = signer
	first := MustSubscribe(t, e, "a@example.org", "daily")
	MustConfirm(t, e, first.Token)
	if _, err := e.svc.Unsubscribe(ctx, signer.UnsubscribeToken(first.SubscriberID, "daily"), subscribers.RequestMeta{}); err != nil {
		t.Fatal(err)
	}
	again := MustSubscribe(t, e, "a@example.org", "daily")

	look, err := e.svc.Confirmation(ctx, first.Token)
	if err != nil || look.Confirmable() {
		t.Fatalf("old link: Confirmation = %+v, %v; want not confirmable", look, err)
	}
	wantStanding(t, look, map[string]string{"daily": "pending"})
	if nls := MustConfirm(t, e, first.Token); nls != nil {
		t.Fatalf("old link confirmed %q", nls)
	}
	if st := MustStatus(t, e, "a@example.org", "daily"); st != newsletter.StatusPending {
		t.Fatalf("daily = %q after the old link, want pending", st)
	}
	if nls := MustConfirm(t, e, again.Token); !slices.Equal(nls, []string{"daily"}) {
		t.Fatalf("new link confirmed %q, want [daily]", nls)
	}
}
