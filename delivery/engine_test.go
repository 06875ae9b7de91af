package delivery_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/articles"
	"newsletter/delivery"
	"newsletter/digests"
	"newsletter/internal/redistest"
	"newsletter/mailer"
	"newsletter/mailer/mailtest"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/throttle"
)

const testSecret = "a-test-secret-of-enough-length"

// rig is an Engine on a Redis of its own that sends to a test SMTP server,
// with no queue anywhere: the tests call the engine as a worker would.
type rig struct {
	engine  *delivery.Engine
	digests *digests.Service
	store   *subscribers.Store
	smtp    *mailtest.Server
	rdb     *redis.Client
}

// noDispatch keeps created digests queued: the test starts them itself.
type noDispatch struct{}

func (noDispatch) DispatchDigest(context.Context, string) error { return nil }

func mustRig(t *testing.T) *rig {
	t.Helper()
	rdb := redistest.Client(t)
	smtpSrv := mailtest.MustStart(t)
	cfg, err := mailer.ParseSMTPURL(smtpSrv.URL())
	if err != nil {
		t.Fatal(err)
	}
	bulk := mailer.NewPool(cfg, 2)
	sender := mailer.NewSMTP(cfg)
	t.Cleanup(func() { bulk.Close(); sender.Close() })
	tpl, err := templates.Load("")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := subscribers.NewSigner([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	store := subscribers.NewStore(rdb)
	arts := articles.NewStore(rdb)
	ds := &digests.Service{Store: digests.NewStore(rdb), Articles: arts, Readers: store,
		NormalizeAddress: subscribers.NormalizeAddress, Dispatcher: noDispatch{}, Now: time.Now}
	engine := &delivery.Engine{Store: store, Digests: ds.Store, Signer: signer, Templates: tpl,
		Sender: sender, Bulk: bulk, Throttle: throttle.NewSend(rdb, 0), BaseURL: "https://news.example",
		From: "News <news@example.org>", ConfirmTTL: time.Hour, Logger: slog.New(slog.DiscardHandler)}
	r := &rig{engine: engine, digests: ds, store: store, smtp: smtpSrv, rdb: rdb}
	ctx := context.Background()
	n := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief"}
	n.Normalize()
	if _, err := store.PutNewsletter(ctx, n); err != nil {
		t.Fatal(err)
	}
	a := articles.Article{URL: "https://news.example/a", Title: "A story", PublishedAt: time.Now().Add(-time.Hour)}
	if _, _, err := arts.Upsert(ctx, []articles.Article{a}, []string{"daily"}); err != nil {
		t.Fatal(err)
	}
	return r
}

// mustReaders imports n confirmed readers of daily, all in one partition
// (so one batch sends to them all), and returns their addresses.
func (r *rig) mustReaders(t *testing.T, n int) []string {
	t.Helper()
	var addrs []string
	for i := 0; len(addrs) < n; i++ {
		addr := fmt.Sprintf("reader%d@example.org", i)
		if len(addrs) == 0 || subscribers.PartitionOf(addr) == subscribers.PartitionOf(addrs[0]) {
			addrs = append(addrs, addr)
		}
	}
	r.mustImport(t, addrs)
	return addrs
}

// mustImport imports addrs as confirmed readers of daily.
func (r *rig) mustImport(t *testing.T, addrs []string) {
	t.Helper()
	csv := "email\n" + strings.Join(addrs, "\n") + "\n"
	svc := subscribers.NewService(r.store, nil, slog.New(slog.DiscardHandler))
	if _, err := svc.Import(context.Background(), strings.NewReader(csv),
		subscribers.ImportOptions{Newsletter: "daily", Confirmed: true}); err != nil {
		t.Fatal(err)
	}
}

// mustStart creates a digest of daily and starts it through the engine.
func (r *rig) mustStart(t *testing.T) (*digests.Digest, []digests.Batch) {
	t.Helper()
	ctx := context.Background()
	d, _, err := r.digests.Create(ctx, "daily", digests.Request{})
	if err != nil {
		t.Fatal(err)
	}
	started, plan, err := r.engine.StartDigest(ctx, d.ID)
	if err != nil || started == nil {
		t.Fatalf("StartDigest = %v, %v", started, err)
	}
	return started, plan
}

func (r *rig) mustGet(t *testing.T, id string) *digests.Digest {
	t.Helper()
	d, err := r.digests.Get(context.Background(), id)
	if err != nil || d == nil {
		t.Fatalf("Get(%s) = %v, %v", id, d, err)
	}
	return d
}

// TestSendBatchWithoutQueue sends a whole digest by calling the engine,
// batch by batch: every reader gets one message, and the digest ends sent
// with its counts.
func TestSendBatchWithoutQueue(t *testing.T) {
	r := mustRig(t)
	var addrs []string // in many partitions, so the plan has many batches
	for i := range 40 {
		addrs = append(addrs, fmt.Sprintf("reader%d@example.org", i))
	}
	r.mustImport(t, addrs)
	d, plan := r.mustStart(t)
	if len(plan) < 2 {
		t.Fatalf("plan has %d batches, want one per partition with readers", len(plan))
	}
	r.mustSendAll(t, plan)
	var got []string
	for _, m := range r.smtp.Messages() {
		got = append(got, m.To...)
	}
	slices.Sort(got)
	slices.Sort(addrs)
	if !slices.Equal(got, addrs) {
		t.Errorf("messages went to %q, want %q", got, addrs)
	}
	if d = r.mustGet(t, d.ID); d.Status != digests.StatusSent || d.Counts.Sent != 40 {
		t.Errorf("digest %s with %+v, want sent with 40 sent", d.Status, d.Counts)
	}
	// A second run of the batches (a retry) sends nothing again.
	r.mustSendAll(t, plan)
	if n := r.smtp.Count(); n != 40 {
		t.Errorf("after sending every batch twice: %d messages in all, want 40", n)
	}
}

// mustSendAll sends every batch of plan, each once.
func (r *rig) mustSendAll(t *testing.T, plan []digests.Batch) {
	t.Helper()
	for _, b := range plan {
		if err := r.engine.SendBatch(context.Background(), b, nil); err != nil {
			t.Fatalf("SendBatch(%+v): %v", b, err)
		}
	}
}

// TestSendBatchOutcomes checks each class of answer: a hard bounce is
// recorded failed and suppressed, a temporary refusal hands the batch back
// with its cause, and the retry sends to that recipient only.
func TestSendBatchOutcomes(t *testing.T) {
	r := mustRig(t)
	addrs := r.mustReaders(t, 3)
	r.smtp.SetReply(func(rcpt string, attempt int) *smtp.SMTPError {
		switch {
		case rcpt == addrs[1]:
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case rcpt == addrs[2] && attempt == 1:
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}
		}
		return nil
	})
	d, plan := r.mustStart(t)
	err := r.engine.SendBatch(context.Background(), plan[0], nil)
	if !errors.Is(err, delivery.ErrRetryBatch) || !strings.Contains(err.Error(), "try later") {
		t.Fatalf("SendBatch = %v, want ErrRetryBatch naming the cause", err)
	}
	if p := r.mustGet(t, d.ID).LastError; p == nil || !strings.Contains(p.Message, "try later") || p.At.IsZero() {
		t.Errorf("LastError = %+v, want the temporary refusal and its time", p)
	}
	suppressed, err := r.store.Suppressed(context.Background(), []string{addrs[1]})
	if err != nil || !suppressed[0] {
		t.Errorf("hard-bounced address suppressed = %v, %v; want true", suppressed, err)
	}
	if err := r.engine.SendBatch(context.Background(), plan[0], nil); err != nil {
		t.Fatalf("retried SendBatch: %v", err)
	}
	d = r.mustGet(t, d.ID)
	want := digests.Counts{Total: 3, Sent: 2, Failed: 1}
	if d.Counts != want || d.Status != digests.StatusSent {
		t.Errorf("digest %s with %+v, want sent with %+v", d.Status, d.Counts, want)
	}
}

// TestSendBatchStopping hands a batch back untouched when the process is
// stopping before it starts.
func TestSendBatchStopping(t *testing.T) {
	r := mustRig(t)
	r.mustReaders(t, 2)
	_, plan := r.mustStart(t)
	stop := make(chan struct{})
	close(stop)
	if err := r.engine.SendBatch(context.Background(), plan[0], stop); !errors.Is(err, delivery.ErrStopping) {
		t.Fatalf("SendBatch after stop = %v, want ErrStopping", err)
	}
	if n := r.smtp.Count(); n != 0 {
		t.Errorf("%d messages sent after stop, want 0", n)
	}
}

// TestSendConfirmationWithoutQueue renders and sends a confirmation email
// by calling the engine, and sends nothing to a suppressed address.
func TestSendConfirmationWithoutQueue(t *testing.T) {
	r := mustRig(t)
	c := delivery.Confirmation{Email: "new@example.org", Token: "tok123", Newsletters: []string{"daily"}}
	if err := r.engine.SendConfirmation(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	msgs := r.smtp.Messages()
	if len(msgs) != 1 || !strings.Contains(string(msgs[0].Data), "confirm?token=3Dtok123") &&
		!strings.Contains(string(msgs[0].Data), "confirm?token=tok123") {
		t.Fatalf("got %d messages, want one with the confirmation link", len(msgs))
	}
	if err := r.store.Suppress(context.Background(), "gone@example.org", "test", subscribers.SourceSMTP, time.Now()); err != nil {
		t.Fatal(err)
	}
	c.Email = "gone@example.org"
	if err := r.engine.SendConfirmation(context.Background(), c); err != nil || r.smtp.Count() != 1 {
		t.Errorf("confirmation to a suppressed address = %v with %d messages, want nil and none sent", err, r.smtp.Count())
	}
}

// TestWelcomeCarriesListUnsubscribe: a welcome email carries
// List-Unsubscribe with the reader's one-click link for the newsletter and
// List-Unsubscribe-Post (RFC 8058), as digests do (issue 18).
func TestWelcomeCarriesListUnsubscribe(t *testing.T) {
	r := mustRig(t)
	if err := r.engine.SendWelcome(context.Background(), delivery.Welcome{SubscriberID: 4242, Email: "new@example.org", Newsletter: "daily"}); err != nil {
		t.Fatal(err)
	}
	msgs := r.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want the welcome", len(msgs))
	}
	m, err := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	link := m.Header.Get("List-Unsubscribe")
	token, ok := strings.CutPrefix(strings.Trim(link, "<>"), "https://news.example/unsubscribe?token=")
	if !ok || m.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
		t.Fatalf("List-Unsubscribe = %q, List-Unsubscribe-Post = %q", link, m.Header.Get("List-Unsubscribe-Post"))
	}
	signer, err := subscribers.NewSigner([]string{testSecret})
	if err != nil {
		t.Fatal(err)
	}
	if id, nl, err := signer.ParseUnsubscribeToken(token); err != nil || id != 4242 || nl != "daily" {
		t.Errorf("the link's token = %d, %q, %v; want 4242, daily", id, nl, err)
	}
}
