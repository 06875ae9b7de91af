package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"newsletter/mailer"
)

// limitResult is n copies of one message sent to the sink with no Redis
// and no templates.
type limitResult struct {
	Seconds     float64 `json:"seconds"` // from the first send to the n-th message at the sink
	PerSecond   float64 `json:"per_second"`
	Connections int     `json:"connections"`
	CPU         float64 `json:"client_cpu_seconds"` // this bench process, which is the client
	SinkCPU     float64 `json:"sink_cpu_seconds"`
}

// rawLimit sends msg n times over e.opt.connections kept connections with
// the plainest client (rawConn): MAIL, RCPT, DATA, the message dot-stuffed
// once and written in one piece, no NOOP or RSET. It is the most the sink
// and the loopback allow with that many connections.
func (e *env) rawLimit(ctx context.Context, n int, msg []byte) (*limitResult, error) {
	stuffed := stuff(msg)
	return e.timed(ctx, n, func(ctx context.Context) error {
		var next atomic.Int64
		errs := make([]error, e.opt.connections)
		var wg sync.WaitGroup
		for c := range e.opt.connections {
			wg.Go(func() { errs[c] = rawSender(ctx, e.opt.sinkSMTP, stuffed, int64(n), &next) })
		}
		wg.Wait()
		return errors.Join(errs...)
	})
}

// rawSender sends messages on one connection until n were taken from next.
func rawSender(ctx context.Context, addr string, stuffed []byte, n int64, next *atomic.Int64) error {
	c, err := dialRaw(addr)
	if err != nil {
		return err
	}
	for i := next.Add(1); i <= n && ctx.Err() == nil; i = next.Add(1) {
		if err := c.send("raw-"+strconv.FormatInt(i, 10)+"@bench.example", stuffed); err != nil {
			c.conn.Close()
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return c.quit()
}

// poolLimit sends n messages with the service's own mailer.Pool of
// e.opt.connections connections from twice as many goroutines, as the
// worker does: go-mail builds each message, NOOP and RSET included, but
// there is no Redis, queue or template.
func (e *env) poolLimit(ctx context.Context, n int, m *mailer.Message) (*limitResult, error) {
	cfg, err := mailer.ParseSMTPURL("smtp://" + e.opt.sinkSMTP + "?tls=none")
	if err != nil {
		return nil, err
	}
	pool := mailer.NewPool(cfg, e.opt.connections)
	defer pool.Close()
	return e.timed(ctx, n, func(ctx context.Context) error {
		var next atomic.Int64
		errs := make([]error, 2*e.opt.connections)
		var wg sync.WaitGroup
		for g := range errs {
			wg.Go(func() { errs[g] = poolSender(ctx, pool, *m, int64(n), &next) })
		}
		wg.Wait()
		return errors.Join(errs...)
	})
}

func poolSender(ctx context.Context, pool *mailer.Pool, m mailer.Message, n int64, next *atomic.Int64) error {
	for i := next.Add(1); i <= n && ctx.Err() == nil; i = next.Add(1) {
		id := strconv.FormatInt(i, 10)
		m.To, m.MessageID = "pool-"+id+"@bench.example", "<pool."+id+"@bench.example>"
		if err := pool.Send(ctx, &m); err != nil {
			return fmt.Errorf("message %d: %w", i, err)
		}
	}
	return nil
}

// timed runs send, which delivers n messages to the sink, and measures it.
func (e *env) timed(ctx context.Context, n int, send func(context.Context) error) (*limitResult, error) {
	if err := e.sink.reset(ctx); err != nil {
		return nil, err
	}
	before, err := e.sink.count(ctx)
	if err != nil {
		return nil, err
	}
	cpu0, t0 := selfCPU(), time.Now()
	if err := send(ctx); err != nil {
		return nil, err
	}
	cpu := selfCPU() - cpu0
	c, err := e.sink.waitFor(ctx, int64(n), func(sinkCount) error {
		if time.Since(t0) > 30*time.Second+time.Duration(n)*time.Millisecond {
			return errors.New("the sink did not count every message")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	secs := float64(c.LastAt-t0.UnixNano()) / 1e9
	return &limitResult{Seconds: secs, PerSecond: float64(n) / secs, Connections: e.opt.connections,
		CPU: cpu, SinkCPU: c.CPUSeconds - before.CPUSeconds}, nil
}
