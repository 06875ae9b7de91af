package subscribers_test

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"newsletter"
	"newsletter/subscribers"
)

// MustSuppress suppresses addr through the store.
func MustSuppress(tb testing.TB, e *env, addr, reason, source string, at time.Time) {
	tb.Helper()
	if err := e.svc.Store.Suppress(ctx, addr, reason, source, at); err != nil {
		tb.Fatalf("Suppress(%q): %v", addr, err)
	}
}

// MustSuppressed reports for each address whether it is suppressed.
func MustSuppressed(tb testing.TB, e *env, addrs ...string) []bool {
	tb.Helper()
	got, err := e.svc.Store.Suppressed(ctx, addrs)
	if err != nil {
		tb.Fatalf("Suppressed(%q): %v", addrs, err)
	}
	return got
}

// MustSuppressions returns one page of the suppression list and its total.
func MustSuppressions(tb testing.TB, e *env, offset, limit int) ([]subscribers.Suppression, int64) {
	tb.Helper()
	list, total, err := e.svc.Suppressions(ctx, offset, limit)
	if err != nil {
		tb.Fatalf("Suppressions(%d, %d): %v", offset, limit, err)
	}
	return list, total
}

// wantSuppression fails unless got holds the given fields.
func wantSuppression(t *testing.T, got subscribers.Suppression, email, reason, source string, at time.Time) {
	t.Helper()
	if got.Email != email || got.Reason != reason || got.Source != source || !got.At.Equal(at) {
		t.Errorf("suppression = %+v, want %s %q %s at %v", got, email, reason, source, at)
	}
}

func TestSuppress(t *testing.T) {
	t.Run("suppress and lift, any case", func(t *testing.T) {
		e := MustEnv(t, "daily")
		MustSuppress(t, e, "Bob@Example.org", "550 5.1.1 user unknown", subscribers.SourceSMTP, e.start)
		if got := MustSuppressed(t, e, "bob@example.org", "BOB@EXAMPLE.ORG", "Bob@Example.org"); !slices.Equal(got, []bool{true, true, true}) {
			t.Errorf("Suppressed = %v, want all true", got)
		}
		list, total := MustSuppressions(t, e, 0, 10)
		if total != 1 || len(list) != 1 {
			t.Fatalf("Suppressions = %+v, total %d; want one", list, total)
		}
		wantSuppression(t, list[0], "Bob@Example.org", "550 5.1.1 user unknown", "smtp", e.start)

		for i, want := range []bool{true, false} {
			if found, err := e.svc.Store.Unsuppress(ctx, "bob@EXAMPLE.org"); err != nil || found != want {
				t.Errorf("Unsuppress #%d = %v, %v; want %v", i+1, found, err, want)
			}
		}
		if got := MustSuppressed(t, e, "Bob@Example.org"); got[0] {
			t.Error("still suppressed after Unsuppress")
		}
		MustNothingStored(t, e)
	})
	t.Run("again keeps the latest record", func(t *testing.T) {
		e := MustEnv(t)
		MustSuppress(t, e, "bob@example.org", "first", subscribers.SourceSMTP, e.start)
		later := e.start.Add(time.Hour)
		MustSuppress(t, e, "BOB@example.org", "second", subscribers.SourceComplaint, later)
		list, total := MustSuppressions(t, e, 0, 10)
		if total != 1 || len(list) != 1 {
			t.Fatalf("Suppressions = %+v, total %d; want one", list, total)
		}
		wantSuppression(t, list[0], "BOB@example.org", "second", "complaint", later)
	})
	t.Run("reason is one line of at most 500 bytes", func(t *testing.T) {
		e := MustEnv(t)
		reason := "550\r\n5.1.1\tuser\x00unknown " + strings.Repeat("é", 400)
		MustSuppress(t, e, "bob@example.org", reason, subscribers.SourceSMTP, e.start)
		list, _ := MustSuppressions(t, e, 0, 1)
		got := list[0].Reason
		if !strings.HasPrefix(got, "550 5.1.1 user unknown é") || strings.ContainsAny(got, "\r\n\t\x00") ||
			len(got) > 500 || !utf8.ValidString(got) {
			t.Errorf("reason = %q (%d bytes), want one valid line of at most 500 bytes", got, len(got))
		}
	})
	t.Run("empty address refused", func(t *testing.T) {
		e := MustEnv(t)
		if err := e.svc.Store.Suppress(ctx, " ", "x", subscribers.SourceSMTP, e.start); err == nil {
			t.Error("Suppress(empty address) = nil, want an error")
		}
	})
}

func TestSuppressionsPaging(t *testing.T) {
	e := MustEnv(t)
	for i := range 5 {
		MustSuppress(t, e, fmt.Sprintf("r%d@example.org", i), "gone", subscribers.SourceBounce, e.start.Add(time.Duration(i)*time.Minute))
	}
	for _, tc := range []struct {
		offset, limit int
		want          []string
	}{
		{0, 2, []string{"r4@example.org", "r3@example.org"}},
		{2, 2, []string{"r2@example.org", "r1@example.org"}},
		{4, 2, []string{"r0@example.org"}},
		{0, 100, []string{"r4@example.org", "r3@example.org", "r2@example.org", "r1@example.org", "r0@example.org"}},
		{5, 2, []string{}},
		{0, 0, []string{}},
	} {
		t.Run(fmt.Sprintf("offset %d limit %d", tc.offset, tc.limit), func(t *testing.T) {
			list, total := MustSuppressions(t, e, tc.offset, tc.limit)
			got := make([]string, 0, len(list))
			for _, s := range list {
				got = append(got, s.Email)
			}
			if total != 5 || !slices.Equal(got, tc.want) || list == nil {
				t.Errorf("Suppressions = %q (nil %t), total %d; want %q, total 5", got, list == nil, total, tc.want)
			}
		})
	}
}

func TestSuppressedMixed(t *testing.T) {
	e := MustEnv(t)
	MustSuppress(t, e, "a@example.org", "gone", subscribers.SourceSMTP, e.start)
	MustSuppress(t, e, "c@example.org", "gone", subscribers.SourceSMTP, e.start)
	got := MustSuppressed(t, e, "a@example.org", "b@example.org", "C@EXAMPLE.ORG", "d@example.org", "a@example.org")
	if want := []bool{true, false, true, false, true}; !slices.Equal(got, want) {
		t.Errorf("Suppressed = %v, want %v", got, want)
	}
	if got := MustSuppressed(t, e); len(got) != 0 {
		t.Errorf("Suppressed() = %v, want empty", got)
	}
}

func TestBounce(t *testing.T) {
	for _, tc := range []struct {
		typ, email string
		code       string // want error code, "" for none
		field      string // want error field
		source     string // want suppression source, "" for no suppression
		stored     string // want address in the suppression
	}{
		{typ: "hard", email: "Reader@Example.org", source: "bounce", stored: "Reader@example.org"},
		{typ: "complaint", email: "reader@example.org", source: "complaint", stored: "reader@example.org"},
		{typ: "soft", email: "reader@example.org"},
		{typ: "HARD", email: "reader@example.org", code: newsletter.EINVALID, field: "type"},
		{typ: "", email: "reader@example.org", code: newsletter.EINVALID, field: "type"},
		{typ: "block", email: "reader@example.org", code: newsletter.EINVALID, field: "type"},
		{typ: "hard", email: "not an address", code: newsletter.EINVALIDEMAIL, field: "email"},
		{typ: "soft", email: "", code: newsletter.EINVALIDEMAIL, field: "email"},
	} {
		t.Run(tc.typ+" "+tc.email, func(t *testing.T) {
			e := MustEnv(t)
			err := e.svc.Bounce(ctx, tc.email, tc.typ, "550 5.1.1\nuser unknown")
			var ce *newsletter.Error
			if newsletter.ErrorCode(err) != tc.code || (err != nil && (!errors.As(err, &ce) || ce.Field != tc.field)) {
				t.Fatalf("Bounce = %v, want code %q on field %q", err, tc.code, tc.field)
			}
			list, total := MustSuppressions(t, e, 0, 10)
			if tc.source == "" {
				if total != 0 {
					t.Errorf("suppressions = %+v, want none", list)
				}
				return
			}
			if total != 1 {
				t.Fatalf("suppressions = %+v, want one", list)
			}
			wantSuppression(t, list[0], tc.stored, "550 5.1.1 user unknown", tc.source, e.start)
			if !MustSuppressed(t, e, "READER@example.org")[0] {
				t.Error("address not suppressed")
			}
		})
	}
}

func TestUnsuppressService(t *testing.T) {
	e := MustEnv(t)
	for _, addr := range []string{"reader@example.org", "not an address"} {
		if err := e.svc.Unsuppress(ctx, addr); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
			t.Errorf("Unsuppress(%q) = %v, want not_found", addr, err)
		}
	}
	if err := e.svc.Bounce(ctx, "reader@example.org", subscribers.BounceHard, "gone"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Unsuppress(ctx, " READER@example.org "); err != nil {
		t.Errorf("Unsuppress = %v, want nil", err)
	}
	if MustSuppressed(t, e, "reader@example.org")[0] {
		t.Error("still suppressed")
	}
	if err := e.svc.Unsuppress(ctx, "reader@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
		t.Errorf("second Unsuppress = %v, want not_found", err)
	}
}

func TestSubscribeSuppressed(t *testing.T) {
	e := MustEnv(t, "daily")
	if err := e.svc.Bounce(ctx, "reader@example.org", subscribers.BounceHard, "550 5.1.1 user unknown"); err != nil {
		t.Fatal(err)
	}
	req := subscribers.SignupRequest{Email: "Reader@Example.org", Newsletters: []string{"daily"}}
	if err := e.svc.Subscribe(ctx, req); err != nil {
		t.Fatalf("Subscribe(suppressed) = %v, want nil as for any address", err)
	}
	if n := len(e.rec.Confirmations()); n != 0 {
		t.Errorf("suppressed address sent %d confirmation emails, want 0", n)
	}
	MustSubscribe(t, e, "other@example.org", "daily") // others still get theirs
}

func TestEraseRemovesSuppression(t *testing.T) {
	t.Run("subscriber", func(t *testing.T) {
		e := MustEnv(t, "daily")
		MustSubscribe(t, e, "alice@example.org", "daily")
		MustSuppress(t, e, "Alice@Example.org", "550 <alice@example.org> unknown", subscribers.SourceSMTP, e.start)
		if err := e.svc.Erase(ctx, "ALICE@example.org"); err != nil {
			t.Fatalf("Erase: %v", err)
		}
		if MustSuppressed(t, e, "alice@example.org")[0] {
			t.Error("still suppressed after Erase")
		}
		for key, contents := range MustDumpDB(t, e.rdb) {
			if strings.Contains(strings.ToLower(key+"\n"+contents), "alice") {
				t.Errorf("key %s still holds the address:\n%s", key, contents)
			}
		}
	})
	t.Run("suppressed only", func(t *testing.T) {
		e := MustEnv(t)
		MustSuppress(t, e, "alice@example.org", "complaint", subscribers.SourceComplaint, e.start)
		if err := e.svc.Erase(ctx, "Alice@example.org"); err != nil {
			t.Fatalf("Erase: %v", err)
		}
		MustNothingStored(t, e)
		if err := e.svc.Erase(ctx, "alice@example.org"); newsletter.ErrorCode(err) != newsletter.ENOTFOUND {
			t.Errorf("second Erase = %v, want not_found", err)
		}
	})
}
