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
	// Send delivers m.Msg from m.From to m.To as RawSender.SendRaw does,
	// and opens m.Next's transaction when m.Next is not "". A Send for
	// someone else than the opened recipient, or Close, abandons that
	// transaction by closing the connection, the only safe way out once the
	// server waits for content: a server delivers no message whose content
	// did not end.
	Send(ctx context.Context, m Outgoing) error
	// Close gives the connection back.
	Close() error
}

// Outgoing is one built message for a Stream.
type Outgoing struct {
	From, To string // the envelope, bare addresses
	Msg      []byte // the whole message with CRLF line endings, not dot-stuffed
	// Next, when not "", is the recipient of the following Send, and
	// NextFrom its envelope sender ("" for From).
	Next, NextFrom string
	// DotFree says that no line of Msg starts with a dot, as
	// Template.Append guarantees, so Msg needs no dot-stuffing and is sent
	// without being scanned for it. Wrongly set, a line starting with a
	// dot loses it, and a line of one dot ends the message early.
	DotFree bool
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
// between its Sends; one for another envelope ends the transaction the
// Stream opened, one for the same envelope uses it.
func (s *SMTP) Stream(ctx context.Context) (Stream, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return smtpStream{s}, nil
}

type smtpStream struct{ s *SMTP }

func (st smtpStream) Send(ctx context.Context, m Outgoing) error {
	var err error
	if m.Msg, err = st.s.dkim.signRaw(m.Msg); err != nil {
		return err
	}
	return st.s.deliverRaw(ctx, m)
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

func (st *poolStream) Send(ctx context.Context, m Outgoing) error {
	if st.s == nil {
		return ErrClosed
	}
	var err error
	if m.Msg, err = st.p.dkim.signRaw(m.Msg); err != nil {
		return err
	}
	return st.s.deliverRaw(ctx, m)
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

func (st outboxStream) Send(ctx context.Context, m Outgoing) error {
	return st.o.SendRaw(ctx, m.From, m.To, m.Msg)
}

func (outboxStream) Close() error { return nil }
