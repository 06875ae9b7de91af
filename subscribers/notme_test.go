package subscribers_test

import (
	"strings"
	"testing"
	"time"

	"newsletter"
	"newsletter/subscribers"
)

// MustSuppression returns the suppression entry of email, or nil.
func MustSuppression(tb testing.TB, e *env, email string) *subscribers.Suppression {
	tb.Helper()
	list, _, err := e.svc.Suppressions(ctx, 0, 100)
	if err != nil {
		tb.Fatal(err)
	}
	for _, s := range list {
		if strings.EqualFold(s.Email, email) {
			return &s
		}
	}
	return nil
}

func TestNotMeErasesANewcomer(t *testing.T) {
	e := MustEnv(t, "daily", "weekly")
	first := MustSubscribe(t, e, "victim@example.org", "daily", "weekly")
	second := MustSubscribe(t, e, "victim@example.org", "daily")
	MustSubscribe(t, e, "other@example.org", "daily")
	e.SetClock(e.start.Add(time.Hour))

	if err := e.svc.NotMe(ctx, first.Token, subscribers.RequestMeta{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("NotMe: %v", err)
	}
	s := MustSuppression(t, e, "victim@example.org")
	if s == nil || s.Source != subscribers.SourceNotMe || !s.At.Equal(e.start.Add(time.Hour)) {
		t.Fatalf("suppression = %+v, want source not_me at the clock's time", s)
	}
	if _, err := e.svc.Lookup(ctx, "victim@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Errorf("Lookup after NotMe: %v, want not_found: nothing was ever confirmed", err)
	}
	for key := range MustDumpDB(t, e.rdb) {
		if strings.HasPrefix(key, subscribers.KeySubscriber(first.SubscriberID)) {
			t.Errorf("key %s is left", key)
		}
	}
	MustCounts(t, e, "daily", newsletter.Counts{Pending: 1})
	MustCounts(t, e, "weekly", newsletter.Counts{})
	for _, token := range []string{first.Token, second.Token} {
		if _, err := e.svc.Confirm(ctx, token, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
			t.Errorf("Confirm after NotMe: %v, want invalid_token", err)
		}
		if err := e.svc.NotMe(ctx, token, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
			t.Errorf("NotMe again: %v, want invalid_token", err)
		}
	}

	before := len(e.rec.Confirmations())
	if err := e.svc.Subscribe(ctx, subscribers.SignupRequest{Email: "VICTIM@example.org", Newsletters: []string{"daily"}}); err != nil {
		t.Fatalf("Subscribe after NotMe: %v, want the usual nil", err)
	}
	if n := len(e.rec.Confirmations()) - before; n != 0 {
		t.Errorf("Subscribe after NotMe sent %d confirmation emails, want none", n)
	}
}

func TestNotMeKeepsConsentedSubscriptions(t *testing.T) {
	e := MustEnv(t, "daily", "weekly")
	MustConfirm(t, e, MustSubscribe(t, e, "a@example.org", "weekly").Token)
	c := MustSubscribe(t, e, "a@example.org", "daily")

	if err := e.svc.NotMe(ctx, c.Token, subscribers.RequestMeta{IP: "192.0.2.1"}); err != nil {
		t.Fatalf("NotMe: %v", err)
	}
	sub := MustLookup(t, e, "a@example.org")
	if len(sub.Subscriptions) != 1 || sub.Subscriptions[0].Newsletter != "weekly" || sub.Subscriptions[0].Status != newsletter.StatusConfirmed {
		t.Errorf("subscriptions = %+v, want weekly confirmed only", sub.Subscriptions)
	}
	last := sub.Consent[len(sub.Consent)-1]
	if last.Action != subscribers.ActionUnsubscribe || last.Source != subscribers.SourceNotMe || last.IP != "192.0.2.1" ||
		len(last.Newsletters) != 1 || last.Newsletters[0] != "daily" {
		t.Errorf("last consent = %+v, want unsubscribe from daily, source not_me", last)
	}
	if MustSuppression(t, e, "a@example.org") == nil {
		t.Error("address not suppressed")
	}
	if _, err := e.svc.Confirm(ctx, c.Token, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
		t.Errorf("Confirm after NotMe: %v, want invalid_token", err)
	}
	MustCounts(t, e, "daily", newsletter.Counts{})
	MustCounts(t, e, "weekly", newsletter.Counts{Confirmed: 1})
}

func TestNotMeRefusesTokens(t *testing.T) {
	e := MustEnv(t, "daily")
	a := MustSubscribe(t, e, "a@example.org", "daily")
	b := MustSubscribe(t, e, "b@example.org", "daily")
	cases := map[string]struct {
		token  string
		offset time.Duration
		code   string
	}{"expired": {a.Token, e.svc.ConfirmTTL + time.Second, newsletter.EEXPIREDTOKEN}}
	for name, tok := range MustBadTokens(t, a.Token, b.SubscriberID) {
		cases[name] = struct {
			token  string
			offset time.Duration
			code   string
		}{tok, 0, newsletter.EINVALIDTOKEN}
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			e.SetClock(e.start.Add(tc.offset))
			before := MustDumpDB(t, e.rdb)
			err := e.svc.NotMe(ctx, tc.token, subscribers.RequestMeta{})
			if got := newsletter.ErrorCode(err); got != tc.code {
				t.Fatalf("NotMe(%q): %v (code %q), want %q", tc.token, err, got, tc.code)
			}
			if diff := diffDumps(before, MustDumpDB(t, e.rdb)); diff != "" {
				t.Errorf("NotMe(%q) changed the database:\n%s", tc.token, diff)
			}
		})
	}
}
