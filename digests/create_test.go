package digests_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/articles"
	"newsletter/digests"
	"newsletter/subscribers"
)

func urls(list []articles.Article) []string {
	out := make([]string, len(list))
	for i, a := range list {
		out[i] = a.URL
	}
	return out
}

func TestCreateSelectsNewestArticlesSinceLastDay(t *testing.T) {
	h := time.Hour
	tests := []struct {
		name    string
		max     int // the request's max_articles; 0 for the newsletter's 2
		wantOff []time.Duration
	}{
		{"newsletter max", 0, []time.Duration{-1 * h, -2 * h}},
		{"request max", 3, []time.Duration{-1 * h, -2 * h, -23 * h}},
		{"fewer than max", 10, []time.Duration{-1 * h, -2 * h, -23 * h}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t)
			e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 2})
			e.MustNewsletter(t, newsletter.Newsletter{ID: "other", Name: "Other"})
			e.MustArticles(t, "daily", -23*h, -25*h, -1*h, h, -2*h) // one too old, one not yet out
			e.MustArticles(t, "other", -30*time.Minute)
			d := e.MustCreate(t, "daily", digests.Request{MaxArticles: tt.max})
			var want []string
			for _, off := range tt.wantOff {
				want = append(want, articleURL("daily", t0.Add(off)))
			}
			if diff := cmp.Diff(want, urls(d.Articles)); diff != "" {
				t.Fatalf("articles (-want +got):\n%s", diff)
			}
			if want := t0.Add(-24 * h); !d.Since.Equal(want) {
				t.Fatalf("Since = %v, want %v", d.Since, want)
			}
		})
	}
}

func TestCreateMovesCutoffOnlyForRealDigests(t *testing.T) {
	tests := []struct {
		name      string
		test      []string
		wantSince time.Time // of the digest after it
	}{
		{"real digest", nil, t0},
		{"test digest", []string{"editor@example.org"}, t0.Add(time.Hour - 24*time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t)
			e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
			e.MustArticles(t, "daily", -time.Hour)
			first := e.MustCreate(t, "daily", digests.Request{TestRecipients: tt.test})
			if !first.Cutoff.Equal(t0) {
				t.Fatalf("Cutoff = %v, want %v", first.Cutoff, t0)
			}
			e.clock.Set(t0.Add(time.Hour))
			e.MustArticles(t, "daily", -time.Minute)
			second := e.MustCreate(t, "daily", digests.Request{})
			if !second.Since.Equal(tt.wantSince) {
				t.Fatalf("second Since = %v, want %v", second.Since, tt.wantSince)
			}
		})
	}
}

func TestCreateNextDigestHasOnlyNewArticles(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -2*time.Hour, -time.Hour)
	e.MustCreate(t, "daily", digests.Request{})
	e.clock.Set(t0.Add(time.Hour))
	fresh := e.MustArticles(t, "daily", -time.Minute)
	d := e.MustCreate(t, "daily", digests.Request{})
	if diff := cmp.Diff(urls(fresh), urls(d.Articles)); diff != "" {
		t.Fatalf("articles (-want +got):\n%s", diff)
	}
	e.clock.Set(t0.Add(2 * time.Hour))
	_, _, err := e.svc.Create(context.Background(), "daily", digests.Request{})
	wantCode(t, err, newsletter.ENOARTICLES, "")
}

func TestCreateErrors(t *testing.T) {
	tests := []struct {
		name  string
		nl    string
		req   digests.Request
		code  string
		field string
	}{
		{"unknown newsletter", "nope", digests.Request{}, newsletter.ENOTFOUND, ""},
		{"invalid test recipient", "daily",
			digests.Request{TestRecipients: []string{"ok@example.org", "not an address"}},
			newsletter.EINVALIDEMAIL, "test_recipients[1]"},
		{"max_articles 101", "daily", digests.Request{MaxArticles: 101}, newsletter.EINVALIDDIGEST, "max_articles"},
		{"max_articles negative", "daily", digests.Request{MaxArticles: -1}, newsletter.EINVALIDDIGEST, "max_articles"},
		{"no articles since", "daily", digests.Request{Since: t0.Add(-time.Minute)}, newsletter.ENOARTICLES, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t)
			e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
			e.MustArticles(t, "daily", -time.Hour)
			d, created, err := e.svc.Create(context.Background(), tt.nl, tt.req)
			wantCode(t, err, tt.code, tt.field)
			if d != nil || created {
				t.Fatalf("Create = %v, created %v; want nothing", d, created)
			}
			if got := e.disp.IDs(); len(got) != 0 {
				t.Fatalf("dispatched %v, want nothing", got)
			}
		})
	}
}

func TestCreateNoArticles(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -25*time.Hour, time.Minute) // too old, not yet out
	_, _, err := e.svc.Create(context.Background(), "daily", digests.Request{})
	wantCode(t, err, newsletter.ENOARTICLES, "")
	if n := e.MustDigestCount(t, "daily"); n != 0 {
		t.Fatalf("%d digests stored, want 0", n)
	}
}

func TestCreateFreezesAudience(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustNewsletter(t, newsletter.Newsletter{ID: "weekly", Name: "Weekly"})
	e.MustArticles(t, "daily", -time.Hour)
	before := e.MustConfirmed(t, "daily", addrs("early", 3)...)
	e.MustConfirmed(t, "weekly", "elsewhere@example.org")
	ctx := context.Background()
	if err := e.subs.Subscribe(ctx, subscribers.SignupRequest{Email: "pending@example.org", Newsletters: []string{"daily"}}); err != nil {
		t.Fatalf("Subscribe: %v", err)
	}

	d := e.MustCreate(t, "daily", digests.Request{})
	e.MustConfirmed(t, "daily", addrs("late", 2)...)

	if d.Counts.Total != 3 {
		t.Fatalf("Counts.Total = %d, want 3", d.Counts.Total)
	}
	if got := e.MustGet(t, d.ID); got.Counts.Total != 3 || got.Status != digests.StatusQueued {
		t.Fatalf("stored digest: total %d, status %s; want 3, queued", got.Counts.Total, got.Status)
	}
	var got []int64
	for _, r := range e.MustRecipients(t, d) {
		got = append(got, r.SubscriberID)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(before)), slices.Sorted(slices.Values(got))); diff != "" {
		t.Fatalf("recipients (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{d.ID}, e.disp.IDs()); diff != "" {
		t.Fatalf("dispatched (-want +got):\n%s", diff)
	}
}

func TestCreateTestDigestGoesToTestRecipientsOnly(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	e.MustArticles(t, "daily", -time.Hour)
	e.MustConfirmed(t, "daily", addrs("reader", 2)...)
	d := e.MustCreate(t, "daily", digests.Request{TestRecipients: []string{" Editor@Example.ORG "}})
	want := []digests.Recipient{{Bit: 0, Email: "Editor@example.org"}}
	if diff := cmp.Diff(want, e.MustRecipients(t, d)); diff != "" {
		t.Fatalf("recipients (-want +got):\n%s", diff)
	}
	if d.Counts.Total != 1 {
		t.Fatalf("Counts.Total = %d, want 1", d.Counts.Total)
	}
}

func TestCreateDispatchesEachDigestOnce(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	var want []string
	for i := range 3 {
		e.clock.Set(t0.Add(time.Duration(i) * time.Hour))
		e.MustArticles(t, "daily", -time.Minute)
		want = append(want, e.MustCreate(t, "daily", digests.Request{}).ID)
	}
	if diff := cmp.Diff(want, e.disp.IDs()); diff != "" {
		t.Fatalf("dispatched (-want +got):\n%s", diff)
	}
}

func TestCreateSubject(t *testing.T) {
	tests := []struct {
		name     string
		timezone string
		subject  string
		want     string
	}{
		{"default in UTC", "", "", "Daily Brief — March 14, 2026"},
		{"default in the newsletter's zone", "Europe/Kyiv", "", "Daily Brief — March 15, 2026"},
		{"given, made one line", "", "  Big\r\nnews\n\tBcc: x@example.org ", "Big news Bcc: x@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := MustEnv(t)
			e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily Brief", Timezone: tt.timezone})
			e.MustArticles(t, "daily", -time.Hour)
			d := e.MustCreate(t, "daily", digests.Request{Subject: tt.subject})
			if d.Subject != tt.want {
				t.Fatalf("Subject = %q, want %q", d.Subject, tt.want)
			}
			if got := e.MustGet(t, d.ID).Subject; got != tt.want {
				t.Fatalf("stored Subject = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPreviewStoresNothing(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 1})
	e.MustArticles(t, "daily", -2*time.Hour, -time.Hour)
	d, n, err := e.svc.Preview(context.Background(), "daily")
	if err != nil {
		t.Fatalf("Preview: %v", err)
	}
	if n.ID != "daily" || len(d.Articles) != 1 || d.Articles[0].URL != articleURL("daily", t0.Add(-time.Hour)) {
		t.Fatalf("Preview = %s with %v", n.ID, urls(d.Articles))
	}
	if got := e.MustDigestCount(t, "daily"); got != 0 || len(e.disp.IDs()) != 0 {
		t.Fatalf("Preview stored %d digests and dispatched %v; want nothing", got, e.disp.IDs())
	}
	if real := e.MustCreate(t, "daily", digests.Request{}); real.Articles[0].URL != d.Articles[0].URL {
		t.Fatalf("Create after Preview chose %v, want %v", urls(real.Articles), urls(d.Articles))
	}
}
