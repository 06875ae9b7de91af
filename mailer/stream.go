package mailer

import "context"

// Stream sends a run of built messages over one connection held for the
// run, such as a digest batch. Each message may open the next one's
// transaction: with a server that offers PIPELINING (RFC 2920), the next
// recipient's MAIL, RCPT and DATA go out in the same write as the message,
// so a message costs one round trip instead of two. The next message's
// content still waits for the server's answer to this one, so whatever the
// caller does between two Sends (record the outcome, say) happens before the
// next message can be delivered.
type Stream interface {
	// Send delivers msg as RawSender.SendRaw does. next, when not "", is
	// the recipient the following Send will be for. A Send for someone else,
	// or Close, abandons the opened transaction by closing the connection,
	// the only safe way out once the server waits for content: a server
	// delivers no message whose content did not end.
	Send(ctx context.Context, from, to string, msg []byte, next string) error
	// Close gives the connection back.
	Close() error
}

// Streamer opens Streams.
type Streamer interface {
	// Stream holds a connection, waiting for a free one or for ctx.
	Stream(ctx context.Context) (Stream, error)
}

var (
	_ Streamer = (*SMTP)(nil)
	_ Streamer = (*Pool)(nil)
	_ Streamer = (*Outbox)(nil)
)

// envelope is the sender and the recipient of one mail transaction.
type envelope struct{ from, to string }

// Stream returns a Stream over s's connection. Sends from elsewhere may come
// between its Sends; one that does ends the transaction s opened.
func (s *SMTP) Stream(ctx context.Context) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return smtpStream{s}, nil
}

type smtpStream struct{ s *SMTP }

func (st smtpStream) Send(ctx context.Context, from, to string, msg []byte, next string) error {
	msg, err := st.s.dkim.signRaw(msg)
	if err != nil {
		return err
	}
	return st.s.deliverRaw(ctx, from, to, msg, next)
}

func (st smtpStream) Close() error {
	st.s.abandon()
	return nil
}

// abandon closes the connection when a transaction is open.
func (s *SMTP) abandon() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.open != (envelope{}) {
		s.hangUp()
	}
}

// Stream takes a free connection (waiting for one, or ctx) and holds it
// until the Stream is closed.
func (p *Pool) Stream(ctx context.Context) (Stream, error) {
	if p.closed() {
		return nil, ErrClosed
	}
	s, err := p.take(ctx)
	if err != nil {
		return nil, err
	}
	return &poolStream{p: p, s: s}, nil
}

type poolStream struct {
	p *Pool
	s *SMTP // nil once closed
}

func (st *poolStream) Send(ctx context.Context, from, to string, msg []byte, next string) error {
	if st.s == nil {
		return ErrClosed
	}
	msg, err := st.p.dkim.signRaw(msg)
	if err != nil {
		return err
	}
	return st.s.deliverRaw(ctx, from, to, msg, next)
}

func (st *poolStream) Close() error {
	if st.s != nil {
		st.s.abandon()
		st.p.free <- st.s
		st.s = nil
	}
	return nil
}

// Stream returns a Stream that writes each message into the outbox folder;
// it has no transactions to open.
func (o *Outbox) Stream(ctx context.Context) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return outboxStream{o}, nil
}

type outboxStream struct{ o *Outbox }

func (st outboxStream) Send(ctx context.Context, from, to string, msg []byte, _ string) error {
	return st.o.SendRaw(ctx, from, to, msg)
}

func (outboxStream) Close() error { return nil }
