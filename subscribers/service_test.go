package subscribers_test

import (
	"context"
	"fmt"
	"log/slog"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
	"newsletter/throttle"

	"github.com/redis/go-redis/v9"
)

var ctx = context.Background()

// MustNothingStored fails tb unless the database holds newsletters only.
func MustNothingStored(tb testing.TB, e *env) {
	tb.Helper()
	for key := range MustDumpDB(tb, e.rdb) {
		if key != "nl:{nl}:newsletters" {
			tb.Errorf("key %s stored", key)
		}
	}
}

func TestSubscribe(t *testing.T) {
	t.Run("new address", func(t *testing.T) {
		e := MustEnv(t, "daily", "weekly")
		c := MustSubscribe(t, e, "a@example.org", "weekly", "daily", "weekly")
		sub := MustLookup(t, e, "a@example.org")
		want := subscribers.ConfirmationEmail{SubscriberID: sub.ID, Email: "a@example.org", Token: c.Token,
			Newsletters: []string{"weekly", "daily"}}
		if !reflect.DeepEqual(c, want) {
			t.Errorf("confirmation = %+v, want %+v", c, want)
		}
		for _, nl := range []string{"daily", "weekly"} {
			if got := MustStatus(t, e, "a@example.org", nl); got != newsletter.StatusPending {
				t.Errorf("status for %s = %q, want pending", nl, got)
			}
		}
	})
	t.Run("pending address asks again", func(t *testing.T) {
		e := MustEnv(t, "daily")
		first := MustSubscribe(t, e, "a@example.org", "daily")
		second := MustSubscribe(t, e, "a@example.org", "daily")
		if first.Token == second.Token || first.SubscriberID != second.SubscriberID {
			t.Errorf("second confirmation %+v, first %+v: want a new token for the same subscriber", second, first)
		}
	})
	t.Run("confirmed address gets no email", func(t *testing.T) {
		e := MustEnv(t, "daily")
		MustConfirm(t, e, MustSubscribe(t, e, "a@example.org", "daily").Token)
		err := e.svc.Subscribe(ctx, subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily"}})
		if err != nil || len(e.rec.Confirmations()) != 1 {
			t.Errorf("Subscribe = %v with %d confirmations in all, want nil and 1", err, len(e.rec.Confirmations()))
		}
		if got := MustStatus(t, e, "a@example.org", "daily"); got != newsletter.StatusConfirmed {
			t.Errorf("status = %q, want confirmed", got)
		}
	})
	t.Run("confirmed for one newsletter new for another", func(t *testing.T) {
		e := MustEnv(t, "daily", "weekly")
		MustConfirm(t, e, MustSubscribe(t, e, "a@example.org", "daily").Token)
		c := MustSubscribe(t, e, "a@example.org", "daily", "weekly")
		if !slices.Equal(c.Newsletters, []string{"weekly"}) {
			t.Errorf("confirmation for %q, want [weekly]", c.Newsletters)
		}
	})
	t.Run("address case", func(t *testing.T) {
		e := MustEnv(t, "daily")
		first := MustSubscribe(t, e, "Bob@Example.org", "daily")
		second := MustSubscribe(t, e, " bob@example.ORG ", "daily")
		if first.SubscriberID != second.SubscriberID {
			t.Errorf("subscriber ids %d and %d, want one", first.SubscriberID, second.SubscriberID)
		}
		if sub := MustLookup(t, e, "BOB@example.org"); sub.ID != first.SubscriberID || sub.Email != "Bob@example.org" {
			t.Errorf("Lookup = id %d email %q, want %d %q", sub.ID, sub.Email, first.SubscriberID, "Bob@example.org")
		}
	})
	t.Run("default newsletter", func(t *testing.T) {
		e := MustEnv(t, "daily")
		if c := MustSubscribe(t, e, "a@example.org"); !slices.Equal(c.Newsletters, []string{"daily"}) {
			t.Errorf("confirmation for %q, want [daily]", c.Newsletters)
		}
	})

	refused := []struct {
		name        string
		newsletters []string // defined
		req         subscribers.SignupRequest
		code        string
	}{
		{"unknown newsletter", []string{"daily"},
			subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily", "nope"}}, newsletter.EUNKNOWNNEWSLETTER},
		{"invalid newsletter id", []string{"daily"},
			subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"Daily"}}, newsletter.EUNKNOWNNEWSLETTER},
		{"invalid address", []string{"daily"},
			subscribers.SignupRequest{Email: "a@@example.org", Newsletters: []string{"daily"}}, newsletter.EINVALIDEMAIL},
		{"no newsletter of two", []string{"daily", "weekly"},
			subscribers.SignupRequest{Email: "a@example.org"}, newsletter.EUNKNOWNNEWSLETTER},
		{"no newsletter of none", nil,
			subscribers.SignupRequest{Email: "a@example.org"}, newsletter.EUNKNOWNNEWSLETTER},
		{"honeypot", []string{"daily"},
			subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily"}, Honeypot: "https://spam.example"}, ""},
	}
	for _, tc := range refused {
		t.Run(tc.name, func(t *testing.T) {
			e := MustEnv(t, tc.newsletters...)
			if got := newsletter.ErrorCode(e.svc.Subscribe(ctx, tc.req)); got != tc.code {
				t.Errorf("Subscribe: code %q, want %q", got, tc.code)
			}
			MustNothingStored(t, e)
			if n := len(e.rec.Confirmations()); n != 0 {
				t.Errorf("%d confirmation emails sent, want none", n)
			}
		})
	}
}

func TestSubscribeName(t *testing.T) {
	e := MustEnv(t, "daily")
	err := e.svc.Subscribe(ctx, subscribers.SignupRequest{Email: "a@example.org", Newsletters: []string{"daily"},
		Name: " Bob\r\nSmith\x00\tJr\u0085\x7f "})
	if err != nil {
		t.Fatal(err)
	}
	if got := MustLookup(t, e, "a@example.org").Name; got != "" {
		t.Errorf("name before confirmation = %q, want none", got)
	}
	MustConfirm(t, e, e.rec.Confirmations()[0].Token)
	if got, want := MustLookup(t, e, "a@example.org").Name, "Bob Smith Jr"; got != want {
		t.Errorf("name after confirmation = %q, want %q", got, want)
	}

	// A stale token that confirms nothing new leaves the name alone.
	for _, name := range []string{"Old Name", "New Name"} {
		req := subscribers.SignupRequest{Email: "b@example.org", Newsletters: []string{"daily"}, Name: name}
		if err := e.svc.Subscribe(ctx, req); err != nil {
			t.Fatal(err)
		}
	}
	sent := e.rec.Confirmations()
	MustConfirm(t, e, sent[2].Token)
	MustConfirm(t, e, sent[1].Token)
	if got, want := MustLookup(t, e, "b@example.org").Name, "New Name"; got != want {
		t.Errorf("name after confirming the newer then the older token = %q, want %q", got, want)
	}
}

func TestSubscribeConsent(t *testing.T) {
	e := MustEnv(t, "daily")
	meta := subscribers.RequestMeta{IP: "192.0.2.7", UserAgent: "Mozilla/5.0 (test)", Source: "https://example.org/signup"}
	err := e.svc.Subscribe(ctx, subscribers.SignupRequest{Email: "a@example.org", Meta: meta})
	if err != nil {
		t.Fatal(err)
	}
	got := MustLookup(t, e, "a@example.org").Consent
	want := []subscribers.Consent{{Action: subscribers.ActionSignup, Newsletters: []string{"daily"},
		At: e.start, IP: meta.IP, UserAgent: meta.UserAgent, Source: meta.Source}}
	if len(got) != 1 || !got[0].At.Equal(want[0].At) {
		t.Fatalf("consent = %+v, want %+v", got, want)
	}
	got[0].At = want[0].At
	if !reflect.DeepEqual(got, want) {
		t.Errorf("consent = %+v, want %+v", got, want)
	}
}

func TestConfirm(t *testing.T) {
	e := MustEnv(t, "daily")
	c := MustSubscribe(t, e, "a@example.org", "daily")
	MustCounts(t, e, "daily", newsletter.Counts{Pending: 1})

	at := e.start.Add(time.Hour)
	e.SetClock(at)
	meta := subscribers.RequestMeta{IP: "2001:db8::1", UserAgent: "Mail client"}
	for i := range 2 {
		nls, err := e.svc.Confirm(ctx, c.Token, meta)
		if err != nil || !slices.Equal(nls, []string{"daily"}) {
			t.Fatalf("Confirm #%d = %q, %v; want [daily], nil", i+1, nls, err)
		}
	}

	sub := MustLookup(t, e, "a@example.org")
	if s := sub.Subscriptions; len(s) != 1 || s[0].Status != newsletter.StatusConfirmed ||
		s[0].ConfirmedAt == nil || !s[0].ConfirmedAt.Equal(at) || !s[0].SubscribedAt.Equal(e.start) {
		t.Errorf("subscriptions = %+v, want daily confirmed at %v, subscribed at %v", s, at, e.start)
	}
	if n := len(sub.Consent); n != 2 {
		t.Fatalf("%d consent records, want signup and one confirm", n)
	}
	if got := sub.Consent[1]; got.Action != subscribers.ActionConfirm || got.IP != meta.IP ||
		got.UserAgent != meta.UserAgent || !got.At.Equal(at) || !slices.Equal(got.Newsletters, []string{"daily"}) {
		t.Errorf("confirm consent = %+v, want action confirm from %+v at %v", got, meta, at)
	}
	want := []subscribers.WelcomeEmail{{SubscriberID: c.SubscriberID, Email: "a@example.org", Newsletter: "daily"}}
	if got := e.rec.Welcomes(); !reflect.DeepEqual(got, want) {
		t.Errorf("welcomes = %+v, want %+v", got, want)
	}
	MustCounts(t, e, "daily", newsletter.Counts{Confirmed: 1})
}

func MustCounts(tb testing.TB, e *env, nl string, want newsletter.Counts) {
	tb.Helper()
	got, err := e.svc.Store.Counts(ctx, nl)
	if err != nil || got != want {
		tb.Errorf("Counts(%s) = %+v, %v; want %+v", nl, got, err, want)
	}
}

func TestWelcomeOnce(t *testing.T) {
	e := MustEnv(t, "daily", "weekly")
	c := MustSubscribe(t, e, "a@example.org", "daily")
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for range 10 {
		wg.Go(func() {
			_, err := e.svc.Confirm(ctx, c.Token, subscribers.RequestMeta{})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("concurrent Confirm: %v", err)
		}
	}
	MustWelcomed(t, e, "daily")

	again := MustSubscribe(t, e, "a@example.org", "daily", "weekly")
	MustConfirm(t, e, again.Token)
	MustWelcomed(t, e, "daily", "weekly")

	// Two pending tokens for one newsletter welcome once between them.
	first := MustSubscribe(t, e, "b@example.org", "daily")
	second := MustSubscribe(t, e, "b@example.org", "daily")
	MustConfirm(t, e, second.Token)
	MustConfirm(t, e, first.Token)
	MustWelcomed(t, e, "daily", "weekly", "daily")

	// Leaving and coming back is no reason for a second welcome.
	signer, err := subscribers.NewSigner([]string{"test secret"})
	if err != nil {
		t.Fatal(err)
	}
	e.svc.Signer = signer
	if _, err := e.svc.Unsubscribe(ctx, signer.UnsubscribeToken(c.SubscriberID, "daily"), subscribers.RequestMeta{}); err != nil {
		t.Fatalf("Unsubscribe: %v", err)
	}
	back := MustSubscribe(t, e, "a@example.org", "daily")
	MustConfirm(t, e, back.Token)
	if got := MustStatus(t, e, "a@example.org", "daily"); got != newsletter.StatusConfirmed {
		t.Errorf("status after coming back = %q, want confirmed", got)
	}
	MustWelcomed(t, e, "daily", "weekly", "daily")
}

// MustWelcomed fails tb unless the welcome emails sent so far are for nls,
// in order.
func MustWelcomed(tb testing.TB, e *env, nls ...string) {
	tb.Helper()
	var got []string
	for _, w := range e.rec.Welcomes() {
		got = append(got, w.Newsletter)
	}
	if !slices.Equal(got, nls) {
		tb.Errorf("welcomes for %q, want %q", got, nls)
	}
}

func TestErase(t *testing.T) {
	e := MustEnv(t, "daily", "weekly")
	const name = "Alice Liddell"
	err := e.svc.Subscribe(ctx, subscribers.SignupRequest{Email: "Alice@Example.org", Newsletters: []string{"daily"},
		Name: name, Meta: subscribers.RequestMeta{Source: "https://example.org/?ref=alice@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	confirmed := e.rec.Confirmations()[0]
	MustConfirm(t, e, confirmed.Token)
	pending := MustSubscribe(t, e, "alice@example.org", "weekly")
	MustSubscribe(t, e, "bob@example.org", "daily", "weekly")
	id := confirmed.SubscriberID

	if err := e.svc.Erase(ctx, "ALICE@example.org"); err != nil {
		t.Fatalf("Erase: %v", err)
	}
	for _, email := range []string{"alice@example.org", "Alice@Example.org"} {
		if _, err := e.svc.Lookup(ctx, email); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
			t.Errorf("Lookup(%q) after Erase: %v, want not_found", email, err)
		}
	}
	for key, contents := range MustDumpDB(t, e.rdb) {
		for _, personal := range []string{"alice@example.org", strings.ToLower(name), subscribers.KeySubscriber(id)} {
			if strings.Contains(strings.ToLower(key+"\n"+contents), personal) {
				t.Errorf("key %s still holds %q:\n%s", key, personal, contents)
			}
		}
	}
	for _, nl := range []string{"daily", "weekly"} {
		for _, st := range newsletter.Statuses {
			key := subscribers.KeyAudience(nl, st, subscribers.PartitionOf("alice@example.org"))
			if bit, _ := e.rdb.GetBit(ctx, key, id).Result(); bit == 1 {
				t.Errorf("%s still holds %d", key, id)
			}
		}
		MustCounts(t, e, nl, newsletter.Counts{Pending: 1})
	}
	for _, token := range []string{confirmed.Token, pending.Token} {
		if _, err := e.svc.Confirm(ctx, token, subscribers.RequestMeta{}); newsletter.ErrorCode(err) != newsletter.EINVALIDTOKEN {
			t.Errorf("Confirm(erased subscriber's token): %v, want invalid_token", err)
		}
	}
	if MustLookup(t, e, "bob@example.org").Email != "bob@example.org" {
		t.Error("Erase touched another subscriber")
	}
	if err := e.svc.Erase(ctx, "alice@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Errorf("second Erase: %v, want not_found", err)
	}
}

// nopNotifier sends nothing.
type nopNotifier struct{}

func (nopNotifier) SendConfirmation(context.Context, subscribers.ConfirmationEmail) error { return nil }
func (nopNotifier) SendWelcome(context.Context, subscribers.WelcomeEmail) error           { return nil }

// BenchmarkSubscribe is one signup with every limit on (lifted so that
// none refuses): the client's, the address's and the site's, as the API
// runs it. redis-µs/op is the CPU Redis spends per signup (INFO cpu).
func BenchmarkSubscribe(b *testing.B) {
	rdb := redistest.Client(b)
	store := subscribers.NewStore(rdb)
	MustNewsletters(b, store, "daily")
	svc := subscribers.NewService(store, nopNotifier{}, slog.New(slog.DiscardHandler))
	svc.Sealer = MustSealer(b)
	svc.Limits = subscribers.NewConfirmLimits(rdb, throttle.Rate{N: 100_000_000, Per: time.Second})
	client := subscribers.SignupLimit{Window: throttle.NewWindow(rdb, "nl:{nl}:throttle:signup:", throttle.Rate{N: 100_000_000, Per: time.Second}),
		Key: "192.0.2.1"}
	b.ReportAllocs()
	before := redisCPU(b, rdb)
	i := 0
	for b.Loop() {
		req := subscribers.SignupRequest{Email: fmt.Sprintf("reader%d@example.org", i), Newsletters: []string{"daily"},
			Meta: subscribers.RequestMeta{IP: "192.0.2.1", UserAgent: "bench"}, Limit: client}
		if err := svc.Subscribe(ctx, req); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric((redisCPU(b, rdb)-before)/float64(i)*1e6, "redis-µs/op")
}

// redisCPU is the CPU seconds Redis has used, user and system.
func redisCPU(tb testing.TB, rdb *redis.Client) float64 {
	tb.Helper()
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		tb.Fatal(err)
	}
	var total float64
	for _, line := range strings.Split(info, "\r\n") {
		for _, f := range []string{"used_cpu_user:", "used_cpu_sys:"} {
			if v, ok := strings.CutPrefix(line, f); ok {
				s, err := strconv.ParseFloat(v, 64)
				if err != nil {
					tb.Fatal(err)
				}
				total += s
			}
		}
	}
	return total
}
