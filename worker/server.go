package worker

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/hibiken/asynq"
	"github.com/redis/go-redis/v9"
)

// Server runs the handlers on asynq.
type Server struct {
	srv *asynq.Server
	mux *asynq.ServeMux
}

// ServerConfig tunes a Server.
type ServerConfig struct {
	Concurrency     int           // tasks run at once; default 10
	ShutdownTimeout time.Duration // how long Shutdown waits for running tasks; default 8s
	Secrets         []string      // the service's secrets, to open sealed tokens
}

// NewServer returns a Server that runs h's handlers, taking tasks from rdb.
func NewServer(rdb redis.UniversalClient, h *Handlers, cfg ServerConfig) (*Server, error) {
	s, err := newSealer(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	h.sealer = s
	h.client = asynq.NewClientFromRedisClient(rdb)
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 10
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 8 * time.Second
	}
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:     cfg.Concurrency,
		Queues:          queuePriorities,
		StrictPriority:  true,
		ShutdownTimeout: cfg.ShutdownTimeout,
		Logger:          asynqLogger{h.Logger},
		LogLevel:        asynq.WarnLevel,
		ErrorHandler:    errorLogger(h.Logger),
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeConfirmationEmail, h.handleConfirmation)
	mux.HandleFunc(TypeWelcomeEmail, h.handleWelcome)
	mux.HandleFunc(TypeDigest, h.handleDigest)
	mux.HandleFunc(TypeDigestBatch, h.handleDigestBatch)
	mux.HandleFunc(TypeScheduleTick, h.handleScheduleTick)
	mux.HandleFunc(TypePollFeeds, h.handlePollFeeds)
	return &Server{srv: srv, mux: mux}, nil
}

// Start starts processing tasks in the background.
func (s *Server) Start() error { return s.srv.Start(s.mux) }

// Shutdown stops taking tasks, waits for running ones up to the shutdown
// timeout, and hands back the rest to the queue.
func (s *Server) Shutdown() { s.srv.Shutdown() }

func errorLogger(l *slog.Logger) asynq.ErrorHandlerFunc {
	return func(ctx context.Context, t *asynq.Task, err error) {
		retried, _ := asynq.GetRetryCount(ctx)
		max, _ := asynq.GetMaxRetry(ctx)
		l.Warn("Task failed", "task_type", t.Type(), "retry", retried, "max_retry", max, "error", err)
	}
}

// asynqLogger sends asynq's own log lines to slog.
type asynqLogger struct{ l *slog.Logger }

func (a asynqLogger) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Info(args ...any)  { a.l.Info(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Error(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
func (a asynqLogger) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...), "component", "asynq") }
