package mailer

import (
	"context"
	"fmt"
	"sync"
)

const defaultPoolSize = 4

// Pool is a Sender over up to size persistent SMTP connections. Each Send
// takes a free connection (waiting for one, or ctx), so size sends run at
// once. Each connection is an *SMTP and behaves as SMTP.SendRaw says: no
// RSET (nor NOOP) between messages, as a delivered message ends its
// transaction; RSET only after a refused command; a new connection after
// a broken one or a 421. Connections are taken in turn, so all of them
// stay in use. It is safe for concurrent use.
type Pool struct {
	dkim *DKIM
	size int
	free chan *SMTP    // the connections not in use, oldest first
	done chan struct{} // closed by Close

	closeOnce sync.Once
}

// NewPool returns a Pool of size connections to the server of cfg, each an
// *SMTP (see NewSMTP); size <= 0 means 4. It does not connect: each
// connection is opened by the first Send that takes it.
func NewPool(cfg SMTPConfig, size int) *Pool {
	if size <= 0 {
		size = defaultPoolSize
	}
	p := &Pool{dkim: cfg.DKIM, size: size, free: make(chan *SMTP, size), done: make(chan struct{})}
	for range size {
		p.free <- NewSMTP(cfg)
	}
	return p
}

// Size returns the number of connections.
func (p *Pool) Size() int { return p.size }

// Send builds m, signed when the config has DKIM, waits for a free
// connection and delivers m over it. Its errors are those of SMTP.Send; it
// returns ErrClosed after Close, and ctx's error if ctx ends first.
func (p *Pool) Send(ctx context.Context, m *Message) error {
	if p.closed() {
		return ErrClosed
	}
	from, msg, err := built(m, p.dkim)
	if err != nil {
		return err
	}
	return p.deliver(ctx, from, m.To, msg)
}

// deliver waits for a free connection and delivers a built and signed
// message over it.
func (p *Pool) deliver(ctx context.Context, from, to string, msg []byte) error {
	s, err := p.take(ctx)
	if err != nil {
		return err
	}
	defer func() { p.free <- s }()
	return s.deliverRaw(ctx, Outgoing{From: from, To: to, Msg: msg})
}

// take waits for a free connection.
func (p *Pool) take(ctx context.Context) (*SMTP, error) {
	select {
	case s := <-p.free:
		if p.closed() { // Close came while we waited; it waits for s
			p.free <- s
			return nil, ErrClosed
		}
		return s, nil
	case <-p.done:
		return nil, ErrClosed
	case <-ctx.Done():
		return nil, fmt.Errorf("mailer: send: %w", ctx.Err())
	}
}

func (p *Pool) closed() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Close stops new sends, waits for the sends in progress and closes every
// connection, saying QUIT on those that are open. Send returns ErrClosed
// afterwards. Close always returns nil.
func (p *Pool) Close() error {
	p.closeOnce.Do(func() {
		close(p.done)
		var wg sync.WaitGroup
		for range p.size {
			s := <-p.free
			wg.Go(func() { _ = s.Close() })
		}
		wg.Wait()
	})
	return nil
}
