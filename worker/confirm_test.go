package worker_test

import (
	"context"
	"log/slog"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/delivery"
	"newsletter/internal/redistest"
	"newsletter/mailer"
	"newsletter/mailer/mailtest"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/worker"
)

const (
	testSecret  = "a-test-secret-of-enough-length"
	testBaseURL = "https://news.example"
)

// rig is a subscribers service whose emails a running worker sends to a
// test SMTP server.
type rig struct {
	rdb  *redis.Client
	svc  *subscribers.Service
	smtp *mailtest.Server
}

// MustRig starts a worker on a flushed database holding newsletter daily.
func MustRig(tb testing.TB) *rig {
	tb.Helper()
	rdb := redistest.Client(tb)
	smtp := mailtest.MustStart(tb)
	store := subscribers.NewStore(rdb)
	n := &newsletter.Newsletter{ID: "daily", Name: "Daily Brief"}
	n.Normalize()
	if _, err := store.PutNewsletter(context.Background(), n); err != nil {
		tb.Fatal(err)
	}
	enq, err := worker.NewEnqueuer(rdb, []string{testSecret})
	if err != nil {
		tb.Fatal(err)
	}
	logger := slog.New(slog.DiscardHandler)
	svc := subscribers.NewService(store, enq, logger)
	if svc.Sealer, err = subscribers.NewSealer([]string{testSecret}); err != nil {
		tb.Fatal(err)
	}
	tpl, err := templates.Load("")
	if err != nil {
		tb.Fatal(err)
	}
	cfg, err := mailer.ParseSMTPURL(smtp.URL())
	if err != nil {
		tb.Fatal(err)
	}
	sender := mailer.NewSMTP(cfg)
	engine := &delivery.Engine{Store: store, Templates: tpl, Sender: sender, BaseURL: testBaseURL,
		From: "News <news@example.org>", ConfirmTTL: svc.ConfirmTTL, Logger: logger}
	h := &worker.Handlers{Engine: engine, Newsletters: store, Logger: logger,
		Subscribers: svc, UnconfirmedTTL: subscribers.DefaultUnconfirmedTTL}
	before := *h
	srv, err := worker.NewServer(rdb, h, worker.ServerConfig{Secrets: []string{testSecret}, ShutdownTimeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	if *h != before {
		tb.Fatalf("NewServer changed the Handlers it was given: %+v, was %+v", *h, before)
	}
	if err := srv.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		srv.Shutdown()
		sender.Close()
	})
	return &rig{rdb: rdb, svc: svc, smtp: smtp}
}

var linkPattern = regexp.MustCompile(`https://news\.example/(confirm|not-me)\?token=([A-Za-z0-9_%-]+)`)

// TestConfirmationEmail checks that the confirmation email carries the
// confirmation link and the "This wasn't me" link with the same token, in
// both parts, and echoes nothing the signer typed but the address.
func TestConfirmationEmail(t *testing.T) {
	r := MustRig(t)
	req := subscribers.SignupRequest{Email: "reader@example.org", Newsletters: []string{"daily"},
		Name: "Cheap pills at https://spam.example", Meta: subscribers.RequestMeta{IP: "192.0.2.1",
			UserAgent: "pills-agent", Source: "https://spam.example/landing"}}
	if err := r.svc.Subscribe(context.Background(), req); err != nil {
		t.Fatal(err)
	}
	msg := r.smtp.WaitFor(t, 1, 10*time.Second)[0]
	_, parts, err := msg.Parts()
	if err != nil {
		t.Fatal(err)
	}
	whole := string(msg.Data) + parts["text/plain"] + parts["text/html"]
	for _, typed := range []string{"pills", "spam.example"} {
		if strings.Contains(whole, typed) {
			t.Errorf("confirmation email echoes %q:\n%s", typed, whole)
		}
	}
	for _, part := range []string{"text/plain", "text/html"} {
		tokens := map[string]string{}
		for _, m := range linkPattern.FindAllStringSubmatch(parts[part], -1) {
			tok, _ := url.QueryUnescape(m[2])
			tokens[m[1]] = tok
		}
		if tokens["confirm"] == "" || tokens["confirm"] != tokens["not-me"] {
			t.Errorf("%s part: links %v, want /confirm and /not-me with one token:\n%s", part, tokens, parts[part])
		}
		if !strings.Contains(parts[part], "reader@example.org") {
			t.Errorf("%s part does not name the address", part)
		}
	}
}

// TestPurgeTask checks that the purge task removes old pending
// subscriptions.
func TestPurgeTask(t *testing.T) {
	r := MustRig(t)
	ctx := context.Background()
	var ahead atomic.Int64 // how far the service's clock runs ahead
	r.svc.Now = func() time.Time { return time.Now().Add(time.Duration(ahead.Load())) }
	if err := r.svc.Subscribe(ctx, subscribers.SignupRequest{Email: "old@example.org"}); err != nil {
		t.Fatal(err)
	}
	ahead.Store(int64(31 * 24 * time.Hour))
	client := asynq.NewClientFromRedisClient(r.rdb)
	if _, err := client.Enqueue(asynq.NewTask(worker.TypePurgeUnconfirmed, nil)); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, err := r.svc.Lookup(ctx, "old@example.org")
		if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("subscriber still there after the purge task: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
