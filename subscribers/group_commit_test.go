package subscribers_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/subscribers"
)

// pipelineCounter is a go-redis hook that counts the pipelines sent and
// the commands in them.
type pipelineCounter struct{ pipelines, commands atomic.Int64 }

func (c *pipelineCounter) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *pipelineCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return next
}
func (c *pipelineCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		c.pipelines.Add(1)
		c.commands.Add(int64(len(cmds)))
		return next(ctx, cmds)
	}
}

// TestConcurrentSignupsShareRoundTrips sends 200 signups at once: every
// one is stored and mailed, and they reach Redis in fewer pipelines than
// the two round trips each would take alone.
func TestConcurrentSignupsShareRoundTrips(t *testing.T) {
	e := MustEnv(t, "daily")
	counter := &pipelineCounter{}
	e.rdb.AddHook(counter)
	const n = 200
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Go(func() {
			errs <- e.svc.Subscribe(context.Background(), subscribers.SignupRequest{
				Email: fmt.Sprintf("group%d@example.org", i), Newsletters: []string{"daily"}})
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if got := len(e.rec.Confirmations()); got != n {
		t.Fatalf("confirmation emails: got %d, want %d", got, n)
	}
	for i := range n {
		if st := MustStatus(t, e, fmt.Sprintf("group%d@example.org", i), "daily"); st != newsletter.StatusPending {
			t.Fatalf("group%d: status %q, want pending", i, st)
		}
	}
	t.Logf("%d pipelines, %d commands", counter.pipelines.Load(), counter.commands.Load())
	// Each signup sends two groups of commands (the gate, the signup);
	// alone that is 2n pipelines.
	if p := counter.pipelines.Load(); p >= 2*n {
		t.Errorf("%d signups took %d pipelines (%d commands): no round trip was shared", n, p, counter.commands.Load())
	}
}

// TestSignupGivesUpWithItsContext shows that a signup whose context has
// ended returns at once with the context's error, and that it does not
// hold up the signups sent with it.
func TestSignupGivesUpWithItsContext(t *testing.T) {
	e := MustEnv(t, "daily")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := e.svc.Subscribe(ctx, subscribers.SignupRequest{Email: "gone@example.org", Newsletters: []string{"daily"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("a signup with an ended context: got %v, want context.Canceled", err)
	}
	MustSubscribe(t, e, "stays@example.org", "daily")
}
