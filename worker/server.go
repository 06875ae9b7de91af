package worker

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"

	"newsletter/delivery"
	"newsletter/subscribers"
)

// Server runs the handlers on asynq.
//
// It runs two asynq servers: one for confirmation emails and other small
// tasks, one for digest batches, each with its own workers, so that a
// confirmation never waits for a batch to free a worker.
type Server struct {
	srv      *asynq.Server // confirm and default queues
	bulk     *asynq.Server // the bulk queue
	mux      *asynq.ServeMux
	stopping chan struct{}
	relay    *subscribers.Service // relays confirmation emails; nil: none

	stopRelay   context.CancelFunc
	relayExited chan struct{}
}

// ServerConfig tunes a Server.
type ServerConfig struct {
	Concurrency     int           // confirmation and other small tasks run at once; default 10
	BulkConcurrency int           // digest batches run at once; default 8
	ShutdownTimeout time.Duration // how long Shutdown waits for running tasks; default 8s
	Secrets         []string      // the service's secrets, to open sealed tokens
}

// NewServer returns a Server that runs h's handlers, taking tasks from rdb.
func NewServer(rdb redis.UniversalClient, h *Handlers, cfg ServerConfig) (*Server, error) {
	sealer, err := subscribers.NewSealer(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	bound := &boundHandlers{Handlers: h, sealer: sealer, client: asynq.NewClientFromRedisClient(rdb),
		stopping: make(chan struct{})}
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 10
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 8 * time.Second
	}
	if cfg.BulkConcurrency <= 0 {
		cfg.BulkConcurrency = 8
	}
	srv := asynq.NewServerFromRedisClient(rdb, asynqConfig(h.Logger, cfg, cfg.Concurrency, queuePriorities))
	bulk := asynq.NewServerFromRedisClient(rdb, asynqConfig(h.Logger, cfg, cfg.BulkConcurrency, map[string]int{QueueBulk: 1}))
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeConfirmationEmail, bound.handleConfirmation)
	mux.HandleFunc(TypeWelcomeEmail, bound.handleWelcome)
	mux.HandleFunc(TypeAddressChangeEmail, bound.handleAddressChange)
	mux.HandleFunc(TypeDigest, bound.handleDigest)
	mux.HandleFunc(TypeDigestBatch, bound.handleDigestBatch)
	mux.HandleFunc(TypeScheduleTick, bound.handleScheduleTick)
	mux.HandleFunc(TypePollFeeds, bound.handlePollFeeds)
	mux.HandleFunc(TypePurgeUnconfirmed, bound.handlePurgeUnconfirmed)
	return &Server{srv: srv, bulk: bulk, mux: mux, stopping: bound.stopping, relay: h.Subscribers}, nil
}

func asynqConfig(logger *slog.Logger, cfg ServerConfig, concurrency int, queues map[string]int) asynq.Config {
	return asynq.Config{
		Concurrency:       concurrency,
		Queues:            queues,
		TaskCheckInterval: taskCheckInterval,
		StrictPriority:    true,
		ShutdownTimeout:   cfg.ShutdownTimeout,
		Logger:            asynqLogger{logger},
		LogLevel:          asynq.WarnLevel,
		ErrorHandler:      errorLogger(logger),
		RetryDelayFunc:    retryDelay,
		IsFailure:         func(err error) bool { return !errors.Is(err, delivery.ErrStopping) },
	}
}

// Start starts processing tasks, and relaying confirmation emails from the
// outbox to their queue, in the background.
func (s *Server) Start() error {
	if err := s.srv.Start(s.mux); err != nil {
		return err
	}
	if err := s.bulk.Start(s.mux); err != nil {
		s.srv.Shutdown() // the first runs already: stop it, so nothing runs half-started
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	s.stopRelay, s.relayExited = cancel, make(chan struct{})
	go func() {
		defer close(s.relayExited)
		if s.relay != nil {
			s.relay.RunConfirmationRelay(ctx)
		}
	}()
	return nil
}

// Shutdown stops taking tasks; a running batch finishes the message on the
// wire, records it and hands the rest back. Other tasks get up to the
// shutdown timeout to finish, and are handed back after it.
func (s *Server) Shutdown() {
	if s.stopRelay != nil {
		s.stopRelay()
		<-s.relayExited
	}
	close(s.stopping)
	done := make(chan struct{})
	go func() { s.bulk.Shutdown(); close(done) }()
	s.srv.Shutdown()
	<-done
}

// taskCheckInterval is how often an idle server looks for a new task.
// asynq's default, a second (it sleeps from half of it to one and a half
// times it, at random), is what readers notice before a confirmation
// email, and what a digest waited for its first batch to start: 1.5 s of
// a 20,000-recipient digest's 4.7 s on the bench. Looking ten times a
// second costs an idle Redis ten small scripts a second per server.
const taskCheckInterval = 100 * time.Millisecond

// retryDelay backs off exponentially from one second to five minutes, with
// jitter so that batches refused together do not come back together. A
// batch handed back at shutdown comes back at once.
func retryDelay(n int, err error, _ *asynq.Task) time.Duration {
	if errors.Is(err, delivery.ErrStopping) {
		return time.Second
	}
	d := time.Second << min(n, 9)
	d = min(d, 5*time.Minute)
	return d/2 + rand.N(d/2+1)
}

func errorLogger(l *slog.Logger) asynq.ErrorHandlerFunc {
	return func(ctx context.Context, t *asynq.Task, err error) {
		retried, _ := asynq.GetRetryCount(ctx)
		max, _ := asynq.GetMaxRetry(ctx)
		var p struct {
			RequestID string `json:"request_id"`
		}
		json.Unmarshal(t.Payload(), &p)
		l.Warn("Task failed", "task_type", t.Type(), "request_id", p.RequestID, "retry", retried, "max_retry", max, "error", err)
	}
}

// asynqLogger sends asynq's own log lines to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
