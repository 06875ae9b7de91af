package subscribers

import (
	"context"
	"sync"

	"github.com/redis/go-redis/v9"
)

// groupCommit sends the commands of concurrent signups to Redis together:
// each round trip of a signup queues its commands, and a flusher sends
// everything queued so far as one pipeline (on a cluster, go-redis splits
// it into one pipeline per master). Under load one write and one read
// carry many signups, on both sides of the connection; alone, a signup
// goes out at once, since a flusher starts as soon as work arrives and
// never waits for more. The gates of a group's signups (gate.go) go out as
// one script call at the head of its pipeline.
type groupCommit struct {
	rdb redis.UniversalClient

	mu       sync.Mutex
	pending  []*groupItem
	flushers int // running; at most maxFlushers
}

// maxFlushers is how many pipelines may be in flight at once: while one
// is on the wire or in Redis, the next fills up.
const maxFlushers = 3

// maxGroup caps the commands' owners in one pipeline, so that one
// pipeline's reply does not grow without bound.
const maxGroup = 64

// groupItem is one caller's commands in a group.
type groupItem struct {
	gate  *gateRequest // nil: none
	queue func(redis.Pipeliner)
	done  chan struct{}
}

// do queues gate and the commands that queue adds to a pipeline (either
// may be nil), waits until they were sent and answered, and returns ctx's
// error if ctx ends first (the commands may still run then). Each command
// holds its own result and error, and gate its own; do's own error is
// only the context's.
func (g *groupCommit) do(ctx context.Context, gate *gateRequest, queue func(redis.Pipeliner)) error {
	it := &groupItem{gate: gate, queue: queue, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, it)
	start := g.flushers < maxFlushers
	if start {
		g.flushers++
	}
	g.mu.Unlock()
	if start {
		go g.flush()
	}
	select {
	case <-it.done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// flush sends what is pending, group after group, and stops when nothing
// is left.
func (g *groupCommit) flush() {
	for {
		g.mu.Lock()
		n := min(len(g.pending), maxGroup)
		if n == 0 {
			g.flushers--
			g.mu.Unlock()
			return
		}
		group := g.pending[:n:n]
		g.pending = g.pending[n:]
		if len(g.pending) == 0 {
			g.pending = nil
		}
		g.mu.Unlock()
		g.send(group)
	}
}

// send runs one group as a pipeline. The callers' contexts are not the
// pipeline's: one caller giving up does not cancel the others' commands.
func (g *groupCommit) send(group []*groupItem) {
	pipe := g.rdb.Pipeline()
	gates := gateBatches(group)
	gateCmds := make([]*redis.Cmd, len(gates))
	for i, b := range gates {
		gateCmds[i] = b.queue(pipe)
	}
	for _, it := range group {
		if it.queue != nil {
			it.queue(pipe)
		}
	}
	_, _ = pipe.Exec(context.Background()) // each command keeps its own error
	for i, b := range gates {
		b.settle(g.rdb, gateCmds[i])
	}
	for _, it := range group {
		close(it.done)
	}
}
