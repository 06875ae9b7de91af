package subscribers_test

import (
	"github.com/google/go-cmp/cmp"
	"slices"
	"strings"
	"testing"
	"time"

	"newsletter"
)

// fullNewsletter returns a newsletter with every field set to a good value.
func fullNewsletter() newsletter.Newsletter {
	return newsletter.Newsletter{ID: "daily-brief", Name: "Daily Brief", From: "Daily Brief <news@example.org>",
		MaxArticles: 10, Schedule: "0 7 * * *", Timezone: "Europe/Kyiv", MaxLateness: "1h",
		Feeds: []string{"https://example.org/feed.xml"}}
}

func TestPutNewsletter(t *testing.T) {
	store := MustEnv(t).svc.Store
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	n := fullNewsletter()
	n.CreatedAt, n.UpdatedAt = created, created
	if ok, err := store.PutNewsletter(ctx, &n); err != nil || !ok {
		t.Fatalf("first PutNewsletter = %v, %v; want created", ok, err)
	}

	updated := created.Add(48 * time.Hour)
	m := fullNewsletter()
	m.Name, m.CreatedAt, m.UpdatedAt = "Daily Brief 2", updated, updated
	if ok, err := store.PutNewsletter(ctx, &m); err != nil || ok {
		t.Fatalf("second PutNewsletter = %v, %v; want updated", ok, err)
	}
	if !m.CreatedAt.Equal(created) {
		t.Errorf("PutNewsletter set CreatedAt to %v, want the stored %v", m.CreatedAt, created)
	}
	got, err := store.Newsletter(ctx, n.ID)
	want := m
	want.CreatedAt = created
	if err != nil || got == nil || cmp.Diff(want, *got) != "" {
		t.Errorf("Newsletter = %+v, %v; want %+v", got, err, want)
	}
	if got, err := store.Newsletter(ctx, "nope"); got != nil || err != nil {
		t.Errorf("Newsletter(nope) = %+v, %v; want nil, nil", got, err)
	}
}

func TestNewsletters(t *testing.T) {
	ids := []string{"weekly", "a-z", "daily", "0-first", "monthly"}
	store := MustEnv(t, ids...).svc.Store
	list, err := store.Newsletters(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range list {
		got = append(got, n.ID)
	}
	if want := slices.Sorted(slices.Values(ids)); !slices.Equal(got, want) {
		t.Errorf("Newsletters ids = %q, want %q", got, want)
	}
}

func TestMissingNewsletters(t *testing.T) {
	store := MustEnv(t, "daily", "weekly").svc.Store
	tests := []struct {
		ids  []string
		want []string
	}{
		{nil, nil},
		{[]string{"daily"}, nil},
		{[]string{"daily", "weekly"}, nil},
		{[]string{"nope"}, []string{"nope"}},
		{[]string{"x", "daily", "y", "weekly"}, []string{"x", "y"}},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.ids, ","), func(t *testing.T) {
			got, err := store.MissingNewsletters(ctx, tc.ids)
			if err != nil || !slices.Equal(got, tc.want) {
				t.Errorf("MissingNewsletters(%q) = %q, %v; want %q", tc.ids, got, err, tc.want)
			}
		})
	}
}
