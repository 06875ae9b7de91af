package subscribers_test

import (
	"context"
	"fmt"
	"log/slog"
	"newsletter"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

// recorder is a Notifier that keeps every email it is asked to send; it
// relays the confirmation outbox of svc (if set) before it answers.
type recorder struct {
	svc           *subscribers.Service
	mu            sync.Mutex
	confirmations []subscribers.ConfirmationEmail
	welcomes      []subscribers.WelcomeEmail
}

func (r *recorder) SendConfirmation(_ context.Context, c subscribers.ConfirmationEmail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.confirmations = append(r.confirmations, c)
	return nil
}

func (r *recorder) SendWelcome(_ context.Context, w subscribers.WelcomeEmail) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.welcomes = append(r.welcomes, w)
	return nil
}

// Confirmations returns a copy of the confirmation emails sent so far,
// after relaying what waits in the outbox.
func (r *recorder) Confirmations() []subscribers.ConfirmationEmail {
	if r.svc != nil {
		mustRelayAll(r.svc)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.confirmations)
}

// Welcomes returns a copy of the welcome emails sent so far.
func (r *recorder) Welcomes() []subscribers.WelcomeEmail {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.welcomes)
}

// env is a Service on a flushed real Redis, with a recording notifier and
// a clock that stands still at start unless a test moves it.
type env struct {
	svc   *subscribers.Service
	rdb   *redis.Client
	rec   *recorder
	start time.Time
}

// MustEnv returns a fresh env whose database holds the given newsletters.
// The clock starts at the current second, so that the expiry the store sets
// on token keys lies in Redis's future.
func MustEnv(tb testing.TB, newsletters ...string) *env {
	tb.Helper()
	rdb := redistest.Client(tb)
	rec := &recorder{}
	svc := subscribers.NewService(subscribers.NewStore(rdb), rec, slog.New(slog.DiscardHandler))
	svc.Sealer, rec.svc = MustSealer(tb), svc
	e := &env{svc: svc, rdb: rdb, rec: rec, start: time.Now().Truncate(time.Second)}
	e.SetClock(e.start)
	MustNewsletters(tb, svc.Store, newsletters...)
	return e
}

// MustSealer returns a Sealer with a test secret.
func MustSealer(tb testing.TB) *subscribers.Sealer {
	tb.Helper()
	s, err := subscribers.NewSealer([]string{"a-test-secret-of-enough-length"})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// mustRelayAll relays svc's confirmation outbox until it is empty; it
// panics on failure, as the recorder has no test to fail.
func mustRelayAll(svc *subscribers.Service) {
	for {
		n, err := svc.RelayConfirmations(context.Background())
		if err != nil {
			panic(err)
		}
		if n == 0 {
			return
		}
	}
}

// SetClock makes the service's clock read t.
func (e *env) SetClock(t time.Time) { e.svc.Now = func() time.Time { return t } }

// MustNewsletters stores a minimal newsletter for each id.
func MustNewsletters(tb testing.TB, store *subscribers.Store, ids ...string) {
	tb.Helper()
	for _, id := range ids {
		n := &newsletter.Newsletter{ID: id, Name: "Newsletter " + id}
		n.Normalize()
		if _, err := store.PutNewsletter(context.Background(), n); err != nil {
			tb.Fatalf("PutNewsletter(%q): %v", id, err)
		}
	}
}

// MustSubscribe signs email up to newsletters and returns the confirmation
// email it set off.
func MustSubscribe(tb testing.TB, e *env, email string, newsletters ...string) subscribers.ConfirmationEmail {
	tb.Helper()
	before := len(e.rec.Confirmations())
	req := subscribers.SignupRequest{Email: email, Newsletters: newsletters}
	if err := e.svc.Subscribe(context.Background(), req); err != nil {
		tb.Fatalf("Subscribe(%q, %q): %v", email, newsletters, err)
	}
	sent := e.rec.Confirmations()
	if len(sent) != before+1 {
		tb.Fatalf("Subscribe(%q, %q) sent %d confirmation emails, want 1", email, newsletters, len(sent)-before)
	}
	return sent[before]
}

// MustConfirm confirms token and returns the newsletters it confirmed.
func MustConfirm(tb testing.TB, e *env, token string) []string {
	tb.Helper()
	nls, err := e.svc.Confirm(context.Background(), token, subscribers.RequestMeta{})
	if err != nil {
		tb.Fatalf("Confirm(%q): %v", token, err)
	}
	return nls
}

// MustLookup returns the subscriber with address email.
func MustLookup(tb testing.TB, e *env, email string) *subscribers.Subscriber {
	tb.Helper()
	sub, err := e.svc.Lookup(context.Background(), email)
	if err != nil {
		tb.Fatalf("Lookup(%q): %v", email, err)
	}
	return sub
}

// MustStatus returns the status of email's subscription to newsletter, or
// "" when it has none.
func MustStatus(tb testing.TB, e *env, email, newsletter string) newsletter.Status {
	tb.Helper()
	sub := MustLookup(tb, e, email)
	for _, s := range sub.Subscriptions {
		if s.Newsletter == newsletter {
			return s.Status
		}
	}
	return ""
}

// MustDumpDB returns every key of the test database with its type, whether
// it has a time to live, and its contents, one string per key.
func MustDumpDB(tb testing.TB, rdb *redis.Client) map[string]string {
	tb.Helper()
	ctx := context.Background()
	var keys []string
	iter := rdb.Scan(ctx, 0, "*", 100).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Fatalf("scan: %v", err)
	}
	dump := make(map[string]string, len(keys))
	for _, key := range keys {
		d, err := dumpKey(ctx, rdb, key)
		if err != nil {
			tb.Fatalf("dump %s: %v", key, err)
		}
		dump[key] = d
	}
	return dump
}

func dumpKey(ctx context.Context, rdb *redis.Client, key string) (string, error) {
	typ, err := rdb.Type(ctx, key).Result()
	if err != nil {
		return "", err
	}
	var lines []string
	switch typ {
	case "string":
		v, err := rdb.Get(ctx, key).Result()
		if err != nil {
			return "", err
		}
		lines = []string{v}
	case "hash":
		h, err := rdb.HGetAll(ctx, key).Result()
		if err != nil {
			return "", err
		}
		for f, v := range h {
			lines = append(lines, f+"="+v)
		}
		sort.Strings(lines)
	case "list":
		if lines, err = rdb.LRange(ctx, key, 0, -1).Result(); err != nil {
			return "", err
		}
	case "set":
		if lines, err = rdb.SMembers(ctx, key).Result(); err != nil {
			return "", err
		}
		sort.Strings(lines)
	case "zset":
		zs, err := rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
		if err != nil {
			return "", err
		}
		for _, z := range zs {
			lines = append(lines, fmt.Sprintf("%v:%v", z.Member, z.Score))
		}
	default:
		return "", fmt.Errorf("unexpected type %q", typ)
	}
	ttl, err := rdb.TTL(ctx, key).Result()
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%s ttl=%t\n%s", typ, ttl > 0, strings.Join(lines, "\n")), nil
}

// diffDumps describes how two dumps differ, or returns "" when they do not.
func diffDumps(before, after map[string]string) string {
	var b strings.Builder
	for k, v := range before {
		if w, ok := after[k]; !ok {
			fmt.Fprintf(&b, "removed %s\n", k)
		} else if v != w {
			fmt.Fprintf(&b, "changed %s:\n--- before\n%s\n+++ after\n%s\n", k, v, w)
		}
	}
	for k, w := range after {
		if _, ok := before[k]; !ok {
			fmt.Fprintf(&b, "added %s:\n%s\n", k, w)
		}
	}
	return b.String()
}
