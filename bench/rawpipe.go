package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
)

// rawPipelinedLimit sends msg n times over e.opt.connections kept
// connections as the service's mailer streams a digest batch (mailer.Stream
// with PIPELINING, RFC 2920): each message's content, dot-stuffed once,
// goes in one write together with the next message's MAIL FROM, RCPT TO and
// DATA, and then the four replies are read. A message costs one round trip
// instead of the raw client's four: this is the real limit of a client
// that, like the service, waits for each message's answer before its next
// content.
func (e *env) rawPipelinedLimit(ctx context.Context, n int, msg []byte) (*limitResult, error) {
	stuffed := stuff(msg)
	return e.timed(ctx, n, func(ctx context.Context) error {
		var next atomic.Int64
		errs := make([]error, e.opt.connections)
		var wg sync.WaitGroup
		for c := range e.opt.connections {
			wg.Go(func() { errs[c] = pipelinedSender(ctx, e.opt.sinkSMTP, stuffed, int64(n), &next) })
		}
		wg.Wait()
		return errors.Join(errs...)
	})
}

// pipelinedSender sends messages on one connection until n were taken
// from next. A connection takes the number of its next message before it
// writes this one's content, so that the two go out together.
func pipelinedSender(ctx context.Context, addr string, stuffed []byte, n int64, next *atomic.Int64) error {
	c, err := dialRaw(addr)
	if err != nil {
		return err
	}
	if !c.ext["PIPELINING"] {
		c.conn.Close()
		return errors.New("the sink does not offer PIPELINING")
	}
	i := next.Add(1)
	if i > n || ctx.Err() != nil {
		return c.quit()
	}
	c.envelope(i)
	if err := c.w.Flush(); err != nil {
		c.conn.Close()
		return err
	}
	if err := c.envelopeReplies(); err != nil {
		c.conn.Close()
		return fmt.Errorf("message %d: %w", i, err)
	}
	for {
		j := next.Add(1)
		more := j <= n && ctx.Err() == nil
		c.w.Write(stuffed)
		if more {
			c.envelope(j)
		}
		if err := c.w.Flush(); err != nil {
			c.conn.Close()
			return fmt.Errorf("message %d: %w", i, err)
		}
		if err := c.expect(250); err != nil {
			c.conn.Close()
			return fmt.Errorf("message %d: %w", i, err)
		}
		if !more {
			return c.quit()
		}
		if err := c.envelopeReplies(); err != nil {
			c.conn.Close()
			return fmt.Errorf("message %d: %w", j, err)
		}
		i = j
	}
}

// envelope buffers message i's MAIL FROM, RCPT TO and DATA, unflushed.
func (rc *rawConn) envelope(i int64) {
	rc.w.WriteString("MAIL FROM:<news@bench.example>\r\nRCPT TO:<raw-")
	rc.w.WriteString(strconv.FormatInt(i, 10))
	rc.w.WriteString("@bench.example>\r\nDATA\r\n")
}

// envelopeReplies reads the replies to envelope's three commands.
func (rc *rawConn) envelopeReplies() error {
	for _, want := range []int{250, 250, 354} {
		if err := rc.expect(want); err != nil {
			return err
		}
	}
	return nil
}
