package worker

import (
	"net/http"

	"github.com/hibiken/asynqmon"
	"github.com/redis/go-redis/v9"
)

// QueueUI is the web monitor of the queues (asynqmon): their sizes, tasks,
// retries and the servers working them, and Redis's INFO (or CLUSTER INFO).
type QueueUI struct {
	h *asynqmon.HTTPHandler
}

// NewQueueUI returns the queue monitor of the queues on rdb, serving under
// the URL path root (e.g. /admin/queues). It uses rdb itself, a plain,
// failover or cluster client, and never closes it. It does not check who
// asks: mount it behind a sign-in.
func NewQueueUI(rdb redis.UniversalClient, root string) *QueueUI {
	return &QueueUI{h: asynqmon.New(asynqmon.Options{RootPath: root, RedisConnOpt: sharedConn{rdb}})}
}

// ServeHTTP serves the monitor's pages and its JSON API.
func (q *QueueUI) ServeHTTP(w http.ResponseWriter, r *http.Request) { q.h.ServeHTTP(w, r) }

// Close does nothing: the monitor holds no connection of its own. (Its
// handler's Close would close the shared client under everyone else.)
func (q *QueueUI) Close() error { return nil }

// sharedConn is an asynq.RedisConnOpt whose "new" client is an existing
// one: asynqmon takes no client, only an option that makes one, and
// serves Redis's INFO only from a *redis.Client or *redis.ClusterClient,
// which a wrapper would hide.
type sharedConn struct{ rdb redis.UniversalClient }

// MakeRedisClient returns the shared client.
func (c sharedConn) MakeRedisClient() any { return c.rdb }
