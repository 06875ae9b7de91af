package digests_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/articles"
	"newsletter/digests"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
)

// baseURL is the public URL the tests' emails link to.
const baseURL = "https://news.example.org"

// dispatcher is a Dispatcher that records the digests it is asked to send,
// and fails with err when err is set.
type dispatcher struct {
	mu  sync.Mutex
	ids []string
	err error
}

func (d *dispatcher) DispatchDigest(_ context.Context, id string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return d.err
	}
	d.ids = append(d.ids, id)
	return nil
}

// FailWith makes every later dispatch fail with err, or succeed when err is nil.
func (d *dispatcher) FailWith(err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.err = err
}

// IDs returns a copy of the digest ids dispatched so far.
func (d *dispatcher) IDs() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.ids)
}

// notifier is a subscribers.Notifier that keeps each address's latest
// confirmation token.
type notifier struct {
	mu     sync.Mutex
	tokens map[string]string
}

func (n *notifier) SendConfirmation(_ context.Context, c subscribers.ConfirmationEmail) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.tokens[c.Email] = c.Token
	return nil
}

func (n *notifier) SendWelcome(context.Context, subscribers.WelcomeEmail) error { return nil }

func (n *notifier) token(addr string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tokens[addr]
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a digests Service on a flushed real Redis, with a recording
// dispatcher and a clock that stands still unless a test moves it. The
// subscribers Service runs on the real clock, as its token keys expire in
// Redis time.
type env struct {
	rdb    *redis.Client
	svc    *digests.Service
	subs   *subscribers.Service
	arts   *articles.Store
	disp   *dispatcher
	notes  *notifier
	clock  *clock
	signer *subscribers.Signer
}

// t0 is the injected time most tests start at: late evening in UTC, already
// the next day in Kyiv (UTC+2 in March).
var t0 = time.Date(2026, 3, 14, 22, 30, 0, 0, time.UTC)

// MustEnv returns a fresh env whose clock reads t0.
func MustEnv(tb testing.TB) *env {
	tb.Helper()
	rdb := redistest.Client(tb)
	signer := MustSigner(tb)
	e := &env{rdb: rdb, arts: articles.NewStore(rdb), disp: &dispatcher{},
		notes: &notifier{tokens: map[string]string{}}, clock: &clock{t: t0}, signer: signer}
	subStore := subscribers.NewStore(rdb)
	e.subs = subscribers.NewService(subStore, e.notes, slog.New(slog.DiscardHandler))
	e.subs.Signer = signer
	var err error
	if e.subs.Sealer, err = subscribers.NewSealer([]string{"a-test-secret-of-enough-length"}); err != nil {
		tb.Fatal(err)
	}
	e.svc = &digests.Service{Store: digests.NewStore(rdb), Articles: e.arts, Readers: subStore, NormalizeAddress: subscribers.NormalizeAddress,
		Dispatcher: e.disp, Now: e.clock.Now}
	return e
}

// MustNewsletter stores newsletter n, normalized and valid.
func (e *env) MustNewsletter(tb testing.TB, n newsletter.Newsletter) *newsletter.Newsletter {
	tb.Helper()
	n.Normalize()
	if err := n.Validate(); err != nil {
		tb.Fatalf("newsletter %s: %v", n.ID, err)
	}
	if _, err := e.subs.Store.PutNewsletter(context.Background(), &n); err != nil {
		tb.Fatalf("PutNewsletter %s: %v", n.ID, err)
	}
	return &n
}

// MustConfirmed subscribes each address to newsletter nl and confirms it
// through the confirmation token, and returns the subscriber ids in order.
func (e *env) MustConfirmed(tb testing.TB, nl string, addrs ...string) []int64 {
	tb.Helper()
	ctx := context.Background()
	ids := make([]int64, len(addrs))
	for i, addr := range addrs {
		req := subscribers.SignupRequest{Email: addr, Newsletters: []string{nl}, Name: "Reader " + addr}
		if err := e.subs.Subscribe(ctx, req); err != nil {
			tb.Fatalf("Subscribe %s: %v", addr, err)
		}
		if _, err := e.subs.RelayConfirmations(ctx); err != nil {
			tb.Fatalf("RelayConfirmations: %v", err)
		}
		if _, err := e.subs.Confirm(ctx, e.notes.token(addr), subscribers.RequestMeta{}); err != nil {
			tb.Fatalf("Confirm %s: %v", addr, err)
		}
		id, err := e.subs.Store.SubscriberID(ctx, addr)
		if err != nil || id == 0 {
			tb.Fatalf("SubscriberID %s = %d, %v", addr, id, err)
		}
		ids[i] = id
	}
	return ids
}

// MustArticles stores articles for newsletter nl, one per offset from the
// env's clock, titled after their offset.
func (e *env) MustArticles(tb testing.TB, nl string, offsets ...time.Duration) []articles.Article {
	tb.Helper()
	now := e.clock.Now()
	batch := make([]articles.Article, len(offsets))
	for i, off := range offsets {
		batch[i] = articles.Article{URL: articleURL(nl, now.Add(off)),
			Title: "Story at " + off.String(), PublishedAt: now.Add(off), Newsletters: []string{nl}}
	}
	if _, _, err := e.arts.Upsert(context.Background(), batch, []string{nl}); err != nil {
		tb.Fatalf("Upsert: %v", err)
	}
	return batch
}

// articleURL returns the URL MustArticles gives the article of newsletter
// nl published at.
func articleURL(nl string, at time.Time) string {
	return fmt.Sprintf("https://example.org/%s/%d", nl, at.UnixMilli())
}

// MustCreate creates a digest of newsletter nl, which must succeed.
func (e *env) MustCreate(tb testing.TB, nl string, req digests.Request) *digests.Digest {
	tb.Helper()
	d, created, err := e.svc.Create(context.Background(), nl, req)
	if err != nil || !created {
		tb.Fatalf("Create(%s) = created %v, %v", nl, created, err)
	}
	return d
}

// MustGet returns digest id as stored now.
func (e *env) MustGet(tb testing.TB, id string) *digests.Digest {
	tb.Helper()
	d, err := e.svc.Get(context.Background(), id)
	if err != nil {
		tb.Fatalf("Get(%s): %v", id, err)
	}
	return d
}

// MustRecipients returns every recipient of every batch of d's plan.
func (e *env) MustRecipients(tb testing.TB, d *digests.Digest) []digests.Recipient {
	tb.Helper()
	var all []digests.Recipient
	plan, err := e.svc.Store.Plan(context.Background(), d)
	if err != nil {
		tb.Fatal(err)
	}
	for _, b := range plan {
		rs, err := e.svc.Store.Recipients(context.Background(), d, b, e.subs.Store)
		if err != nil {
			tb.Fatalf("Recipients(%+v): %v", b, err)
		}
		all = append(all, rs...)
	}
	return all
}

// MustRecord records outcome o for subscriber who as a batch run of one
// message would (Add, Flush, Finish), and reports whether it was new.
func (e *env) MustRecord(tb testing.TB, id string, who int64, o digests.Outcome) bool {
	tb.Helper()
	ctx, now := context.Background(), e.clock.Now()
	r := e.svc.Store.Recorder(id, newsletter.PartitionOf(who))
	defer r.Close()
	r.Add(newsletter.BitOf(who), o)
	n, err := r.Flush(ctx, now)
	if err == nil {
		err = r.Finish(ctx, now)
	}
	if err != nil {
		tb.Fatalf("record %s for %d of %s: %v", o, who, id, err)
	}
	return n == 1
}

// MustDigestCount returns how many digests newsletter nl has.
func (e *env) MustDigestCount(tb testing.TB, nl string) int64 {
	tb.Helper()
	n, err := e.rdb.ZCard(context.Background(), "nl:{nl}:digests:"+nl).Result()
	if err != nil {
		tb.Fatalf("ZCARD: %v", err)
	}
	return n
}

// addrs returns n distinct addresses.
func addrs(prefix string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s%04d@example.org", prefix, i)
	}
	return out
}

// wantCode fails tb unless err carries code and, when field is not empty,
// that field.
func wantCode(tb testing.TB, err error, code, field string) {
	tb.Helper()
	if got := newsletter.ErrorCode(err); got != code {
		tb.Fatalf("error code = %q (%v), want %q", got, err, code)
	}
	var e *newsletter.Error
	if field != "" && (!errors.As(err, &e) || e.Field != field) {
		tb.Fatalf("error %v: field, want %q", err, field)
	}
}

// addrsInOnePartition returns n addresses "{prefix}{i}@example.org" that
// share a partition, for a test that records them through one Recorder.
func addrsInOnePartition(prefix string, n int) []string {
	var out []string
	for i := 0; len(out) < n; i++ {
		addr := fmt.Sprintf("%s%d@example.org", prefix, i)
		if len(out) == 0 || subscribers.PartitionOf(addr) == subscribers.PartitionOf(out[0]) {
			out = append(out, addr)
		}
	}
	return out
}
