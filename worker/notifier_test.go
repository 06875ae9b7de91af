package worker_test

import (
	"context"
	"strings"
	"testing"

	"newsletter"
	"newsletter/internal/redistest"
	"newsletter/subscribers"
	"newsletter/worker"
)

func TestQueuedConfirmationHoldsNoToken(t *testing.T) {
	rdb := redistest.Client(t)
	enq, err := worker.NewEnqueuer(rdb, []string{"a-test-secret-of-enough-length"})
	if err != nil {
		t.Fatal(err)
	}
	const token = "the-raw-confirmation-token-value"
	ctx := context.Background()
	err = enq.SendConfirmation(ctx, subscribers.ConfirmationEmail{SubscriberID: 1, Email: "a@example.org", Token: token, Newsletters: []string{"daily"}})
	if err != nil {
		t.Fatal(err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil || len(keys) == 0 {
		t.Fatalf("keys = %v, %v: want the queued task", keys, err)
	}
	found := false
	for _, k := range keys {
		if rdb.Type(ctx, k).Val() != "hash" {
			continue
		}
		for _, v := range rdb.HGetAll(ctx, k).Val() {
			found = found || strings.Contains(v, "a@example.org")
			if strings.Contains(v, token) {
				t.Fatalf("key %s holds the raw token", k)
			}
		}
	}
	if !found {
		t.Fatal("no queued task holds the confirmation request")
	}
	if n := rdb.LLen(ctx, "asynq:{confirm}:pending").Val(); n != 1 {
		t.Fatalf("confirm queue holds %d tasks, want 1", n)
	}
}

func TestWelcomeQueuedOnce(t *testing.T) {
	rdb := redistest.Client(t)
	enq, _ := worker.NewEnqueuer(rdb, []string{"a-test-secret-of-enough-length"})
	w := subscribers.WelcomeEmail{SubscriberID: 7, Email: "a@example.org", Newsletter: "daily"}
	for i := 0; i < 3; i++ {
		if err := enq.SendWelcome(context.Background(), w); err != nil {
			t.Fatal(err)
		}
	}
	if n := rdb.LLen(context.Background(), "asynq:{default}:pending").Val(); n != 1 {
		t.Fatalf("default queue holds %d welcome tasks, want 1", n)
	}
}

func TestQueuedTasksCarryTheRequestID(t *testing.T) {
	rdb := redistest.Client(t)
	enq, _ := worker.NewEnqueuer(rdb, []string{"a-test-secret-of-enough-length"})
	ctx := newsletter.WithRequestID(context.Background(), "req-1234")
	if err := enq.SendWelcome(ctx, subscribers.WelcomeEmail{SubscriberID: 1, Email: "a@example.org", Newsletter: "daily"}); err != nil {
		t.Fatal(err)
	}
	if err := enq.DispatchDigest(ctx, "d1"); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, k := range rdb.Keys(ctx, "asynq:{default}:t:*").Val() {
		if strings.Contains(rdb.HGet(ctx, k, "msg").Val(), `"request_id":"req-1234"`) {
			found++
		}
	}
	if found != 2 {
		t.Fatalf("%d queued tasks carry the request id, want 2", found)
	}
}

// TestConfirmationQueuedOncePerToken: the relay may hand the same email on
// twice (a relay killed before it removed its batch); the second is
// dropped while the first is queued. Another token is another email.
func TestConfirmationQueuedOncePerToken(t *testing.T) {
	rdb := redistest.Client(t)
	enq, _ := worker.NewEnqueuer(rdb, []string{"a-test-secret-of-enough-length"})
	ctx := context.Background()
	for _, token := range []string{"token-one", "token-one", "token-two"} {
		c := subscribers.ConfirmationEmail{SubscriberID: 1, Email: "a@example.org", Token: token, Newsletters: []string{"daily"}}
		if err := enq.SendConfirmation(ctx, c); err != nil {
			t.Fatalf("SendConfirmation(%s): %v", token, err)
		}
	}
	if n := rdb.LLen(ctx, "asynq:{confirm}:pending").Val(); n != 2 {
		t.Fatalf("confirm queue holds %d tasks, want 2 (one per token)", n)
	}
}
