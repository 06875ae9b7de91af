package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter/subscribers"
)

// tokenCatcher is a subscribers.Notifier that keeps confirmation tokens, so
// tests can seed many subscribers without a round trip through email.
type tokenCatcher struct {
	mu     sync.Mutex
	tokens map[string]string
}

func (c *tokenCatcher) SendConfirmation(_ context.Context, e subscribers.ConfirmationEmail) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.tokens[e.Email] = e.Token
	return nil
}

func (c *tokenCatcher) SendWelcome(context.Context, subscribers.WelcomeEmail) error { return nil }

// seeder adds subscribers straight through the subscribers service, on the
// harness's Redis.
type seeder struct {
	t     *testing.T
	svc   *subscribers.Service
	catch *tokenCatcher
}

func (h *harness) seeder() *seeder {
	h.t.Helper()
	opt, err := redis.ParseURL(h.redisURL)
	if err != nil {
		h.t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	h.t.Cleanup(func() { rdb.Close() })
	catch := &tokenCatcher{tokens: map[string]string{}}
	svc := subscribers.NewService(subscribers.NewStore(rdb), catch, slog.New(slog.NewTextHandler(io.Discard, nil)))
	svc.Signer = h.main.parts.signer
	return &seeder{t: h.t, svc: svc, catch: catch}
}

// add subscribes n addresses named prefix-i@example.org to nl and leaves
// them in status st; it returns the addresses.
func (s *seeder) add(prefix string, n int, st subscribers.Status, nl string) []string {
	s.t.Helper()
	ctx := context.Background()
	addrs := make([]string, n)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("%s-%d@example.org", prefix, i)
		s.must(s.svc.Subscribe(ctx, subscribers.SignupRequest{Email: addrs[i], Newsletters: []string{nl}, Name: "Reader " + prefix}))
		if st == subscribers.StatusPending {
			continue
		}
		s.catch.mu.Lock()
		token := s.catch.tokens[addrs[i]]
		s.catch.mu.Unlock()
		_, err := s.svc.Confirm(ctx, token, subscribers.RequestMeta{})
		s.must(err)
		if st == subscribers.StatusUnsubscribed {
			sub, err := s.svc.Lookup(ctx, addrs[i])
			s.must(err)
			_, err = s.svc.Unsubscribe(ctx, s.svc.Signer.UnsubscribeToken(sub.ID, nl), subscribers.RequestMeta{})
			s.must(err)
		}
	}
	return addrs
}

func (s *seeder) must(err error) {
	s.t.Helper()
	if err != nil {
		s.t.Fatal(err)
	}
}
