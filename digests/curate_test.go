package digests_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"newsletter"
	"newsletter/articles"
	"newsletter/digests"
)

// leads returns the URLs of the articles marked lead.
func leads(list []articles.Article) []string {
	var out []string
	for _, a := range list {
		if a.Lead {
			out = append(out, a.URL)
		}
	}
	return out
}

// TestCreateCuratedSendsExactlyThoseInOrder: a request that names its
// articles, by id or URL, gets exactly those in that order (an old one
// too, and more than max_articles), with the lead it names first and the
// only one marked lead; the stored article is not changed.
func TestCreateCuratedSendsExactlyThoseInOrder(t *testing.T) {
	h := time.Hour
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 2})
	a := e.MustArticles(t, "daily", -1*h, -2*h, -3*h, -48*h) // the last one is older than the default window
	if _, _, err := e.arts.Upsert(context.Background(), []articles.Article{{URL: a[0].URL, Title: a[0].Title,
		PublishedAt: a[0].PublishedAt, Lead: true}}, []string{"daily"}); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		refs      []string
		lead      string
		want      []string
		wantLeads []string
	}{
		{"by id and URL", []string{a[2].URL, articles.IDOf(a[3].URL), a[0].URL}, "",
			[]string{a[2].URL, a[3].URL, a[0].URL}, nil},
		{"lead by id goes first", []string{a[2].URL, a[3].URL, a[1].URL}, articles.IDOf(a[1].URL),
			[]string{a[1].URL, a[2].URL, a[3].URL}, []string{a[1].URL}},
		{"lead by URL already first", []string{a[3].URL, a[0].URL}, a[3].URL,
			[]string{a[3].URL, a[0].URL}, []string{a[3].URL}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := e.MustCreate(t, "daily", digests.Request{Articles: tt.refs, Lead: tt.lead})
			if diff := cmp.Diff(tt.want, urls(d.Articles)); diff != "" {
				t.Fatalf("articles (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantLeads, leads(d.Articles)); diff != "" {
				t.Fatalf("leads (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.want, urls(e.MustGet(t, d.ID).Articles)); diff != "" {
				t.Fatalf("stored articles (-want +got):\n%s", diff)
			}
		})
	}
	stored, err := e.arts.Get(context.Background(), a[1].URL)
	if err != nil || stored == nil || stored.Lead {
		t.Fatalf("stored article %+v, %v; want it unchanged, not lead", stored, err)
	}
}

func TestCreateCuratedRefuses(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	a := e.MustArticles(t, "daily", -time.Hour, -2*time.Hour)
	many := make([]string, newsletter.MaxMaxArticles+1)
	for i := range many {
		many[i] = a[0].URL
	}
	tests := []struct {
		name  string
		req   digests.Request
		field string
	}{
		{"unknown URL", digests.Request{Articles: []string{a[0].URL, "https://example.org/nope"}}, "articles[1]"},
		{"unknown id", digests.Request{Articles: []string{strings.Repeat("0", 32)}}, "articles[0]"},
		{"neither id nor URL", digests.Request{Articles: []string{"story one"}}, "articles[0]"},
		{"empty", digests.Request{Articles: []string{a[0].URL, " "}}, "articles[1]"},
		{"duplicate by id and URL", digests.Request{Articles: []string{a[0].URL, a[1].URL, articles.IDOf(a[0].URL)}}, "articles[2]"},
		{"too many", digests.Request{Articles: many}, "articles"},
		{"lead not among them", digests.Request{Articles: []string{a[0].URL}, Lead: a[1].URL}, "lead"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d, created, err := e.svc.Create(context.Background(), "daily", tt.req)
			wantCode(t, err, newsletter.EINVALIDDIGEST, tt.field)
			if d != nil || created {
				t.Fatalf("Create = %v, created %v; want nothing", d, created)
			}
		})
	}
	if got := e.MustDigestCount(t, "daily"); got != 0 || len(e.disp.IDs()) != 0 {
		t.Fatalf("%d digests stored, %v dispatched; want none", got, e.disp.IDs())
	}
}

// TestCuratedDigestMovesCutoffForwardOnly: a curated digest moves the
// cutoff to when it was made, so the next automatic digest takes only what
// was published after; a digest made at an earlier time (a host whose clock
// is behind) never moves it back.
func TestCuratedDigestMovesCutoffForwardOnly(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily"})
	a := e.MustArticles(t, "daily", -time.Hour, -2*time.Hour)
	e.MustCreate(t, "daily", digests.Request{Articles: []string{a[1].URL}}) // a[0] left out
	e.clock.Set(t0.Add(-10 * time.Minute))
	e.MustCreate(t, "daily", digests.Request{Articles: []string{a[0].URL}})
	e.clock.Set(t0.Add(time.Hour))
	fresh := e.MustArticles(t, "daily", -time.Minute)
	d := e.MustCreate(t, "daily", digests.Request{})
	if !d.Since.Equal(t0) {
		t.Fatalf("Since = %v, want the first curated digest's time %v", d.Since, t0)
	}
	if diff := cmp.Diff(urls(fresh), urls(d.Articles)); diff != "" {
		t.Fatalf("articles (-want +got):\n%s", diff)
	}
}

// TestDraftListsCandidates: the draft offers the articles since the cutoff,
// newest first, each with its id, marked when the default selection (the
// newest max_articles) takes it.
func TestDraftListsCandidates(t *testing.T) {
	h := time.Hour
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 2})
	e.MustArticles(t, "daily", -3*h, -1*h, -30*h, -2*h, h) // one too old, one not out yet
	d, err := e.svc.Draft(context.Background(), "daily")
	if err != nil {
		t.Fatal(err)
	}
	type row struct {
		URL, ID  string
		Selected bool
		Rank     int
	}
	var got []row
	for _, c := range d.Articles {
		got = append(got, row{c.URL, c.ID, c.Selected, c.Rank})
	}
	u := func(off time.Duration) string { return articleURL("daily", t0.Add(off)) }
	want := []row{{u(-h), articles.IDOf(u(-h)), true, 1}, {u(-2 * h), articles.IDOf(u(-2 * h)), true, 2},
		{u(-3 * h), articles.IDOf(u(-3 * h)), false, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("candidates (-want +got):\n%s", diff)
	}
	if !d.Since.Equal(t0.Add(-24*h)) || d.MaxArticles != 2 {
		t.Fatalf("draft since %v, max %d; want %v, 2", d.Since, d.MaxArticles, t0.Add(-24*h))
	}
	if _, err := e.svc.Draft(context.Background(), "nope"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Fatalf("Draft(nope) = %v, want not_found", err)
	}
}

// TestDraftShowsWholeDefaultSelection: with max_articles above
// MaxCandidates, the draft still offers every article of the default
// selection, so that sending it unchanged sends what a plain send would.
func TestDraftShowsWholeDefaultSelection(t *testing.T) {
	e := MustEnv(t)
	e.MustNewsletter(t, newsletter.Newsletter{ID: "daily", Name: "Daily", MaxArticles: 80})
	offsets := make([]time.Duration, 70)
	for i := range offsets {
		offsets[i] = -time.Duration(i+1) * time.Minute
	}
	e.MustArticles(t, "daily", offsets...)
	d, err := e.svc.Draft(context.Background(), "daily")
	if err != nil {
		t.Fatal(err)
	}
	selected := 0
	for _, c := range d.Articles {
		if c.Selected {
			selected++
		}
	}
	if len(d.Articles) != 70 || selected != 70 {
		t.Fatalf("draft offers %d candidates, %d selected; want all 70, all selected", len(d.Articles), selected)
	}
}
