package worker

import (
	"net/http"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
)

// QueueUI is the web monitor of the queues (asynqmon): their sizes, tasks,
// retries and the servers working them. It holds Redis connections of its
// own until Close.
type QueueUI struct {
	h *asynqmon.HTTPHandler
}

// NewQueueUI returns the queue monitor of the Redis that opt names, serving
// under the URL path root (e.g. /admin/queues). It does not check who asks:
// mount it behind a sign-in.
func NewQueueUI(opt *redis.Options, root string) *QueueUI {
	return &QueueUI{h: asynqmon.New(asynqmon.Options{RootPath: root,
		RedisConnOpt: asynq.RedisClientOpt{Addr: opt.Addr, Username: opt.Username, Password: opt.Password,
			DB: opt.DB, TLSConfig: opt.TLSConfig}})}
}

// ServeHTTP serves the monitor's pages and its JSON API.
func (q *QueueUI) ServeHTTP(w http.ResponseWriter, r *http.Request) { q.h.ServeHTTP(w, r) }

// Close releases the monitor's Redis connections.
func (q *QueueUI) Close() error { return q.h.Close() }
