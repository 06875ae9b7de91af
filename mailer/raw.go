package mailer

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/textproto"
	"strings"
	"time"
)

// RawSender delivers messages that are already built, such as those a
// Template writes.
type RawSender interface {
	// SendRaw delivers msg, a whole message with CRLF line endings (not
	// dot-stuffed), from the envelope sender from to the one recipient to,
	// both bare addresses. Its errors are classed by Classify like Send's.
	SendRaw(ctx context.Context, from, to string, msg []byte) error
}

// BulkSender sends both built messages and Messages, one at a time or as
// a Stream: the digest sender.
type BulkSender interface {
	Sender
	RawSender
	Streamer
}

var (
	_ BulkSender = (*SMTP)(nil)
	_ BulkSender = (*Pool)(nil)
	_ BulkSender = (*Outbox)(nil)
)

// SendRaw signs msg when the config has DKIM and delivers it; see
// RawSender. It sends no NOOP or RSET around a message that goes through
// (the server's reply to the message ends the transaction, so the next
// MAIL may follow at once): a kept connection found closed when the
// transaction starts is replaced once, and RSET follows only a refused
// MAIL, RCPT or DATA; see transmitRaw.
func (s *SMTP) SendRaw(ctx context.Context, from, to string, msg []byte) error {
	msg, err := s.dkim.signRaw(msg)
	if err != nil {
		return err
	}
	return s.deliverRaw(ctx, Outgoing{From: from, To: to, Msg: msg})
}

// SendRaw signs msg when the config has DKIM, waits for a free connection
// and delivers msg over it; see SMTP.SendRaw.
func (p *Pool) SendRaw(ctx context.Context, from, to string, msg []byte) error {
	if p.closed() {
		return ErrClosed
	}
	msg, err := p.dkim.signRaw(msg)
	if err != nil {
		return err
	}
	return p.deliver(ctx, from, to, msg)
}

// SendRaw writes msg, signed when o.DKIM is set, into the outbox folder.
func (o *Outbox) SendRaw(ctx context.Context, _, _ string, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mailer: outbox: %w", err)
	}
	msg, err := o.DKIM.signRaw(msg)
	if err != nil {
		return err
	}
	return o.write(outboxName(time.Now()), msg)
}

// deliverRaw delivers a signed message and, when m.Next is not "", opens
// that recipient's transaction after it (see Stream).
func (s *SMTP) deliverRaw(ctx context.Context, m Outgoing) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.err != nil:
		return s.err
	case ctx.Err() != nil:
		return fmt.Errorf("mailer: send: %w", ctx.Err())
	}
	if s.open != (envelope{}) && s.open != (envelope{m.From, m.To}) {
		s.hangUp() // the transaction opened is not this one; only a new connection ends it safely
	}
	reused := s.conn != nil
	if err := s.connect(ctx); err != nil {
		return err
	}
	err := s.transmitRaw(ctx, m)
	if reused && errors.Is(err, errStale) && ctx.Err() == nil {
		if err := s.connect(ctx); err != nil {
			return err
		}
		err = s.transmitRaw(ctx, m)
	}
	if err != nil {
		return fmt.Errorf("mailer: send: %w", err)
	}
	return nil
}

// errStale marks a failure of MAIL on a kept connection that the server
// closed while it was idle (the connection broke, or the server said 421
// and hung up): nothing was sent, and a new connection may work.
var errStale = errors.New("connection closed while idle")

// transmitRaw runs one mail transaction over the open connection. A
// refused MAIL, RCPT or DATA is followed by RSET and keeps the connection;
// a refused message keeps it without RSET, as the reply to the content
// ends the transaction; a 421 or any failure other than a reply drops it.
// Once the server has accepted the message, later failures are not errors.
func (s *SMTP) transmitRaw(ctx context.Context, m Outgoing) error {
	raw := s.dl.conn
	s.dl.set(s.timeout)
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	stage, err := s.transaction(m)
	cut := !stop()
	if stage == stageAccepted {
		if cut { // the message went through just before ctx ended
			s.hangUp()
		}
		return nil
	}
	var reply *textproto.Error
	isReply := errors.As(err, &reply)
	switch {
	case cut:
		s.hangUp()
		return fmt.Errorf("%w: %s: %w", ctx.Err(), stage, err)
	case stage == stageMail && (!isReply || reply.Code == 421):
		s.hangUp()
		return fmt.Errorf("%s: %w: %w", stage, errStale, err)
	case !isReply || reply.Code == 421:
		s.hangUp()
	case stage != stageContent: // a reply to the content ends the transaction
		s.reset()
	}
	return fmt.Errorf("%s: %w", stage, err)
}

// stage is how far a mail transaction got.
type stage string

const (
	stageMail     stage = "MAIL FROM"
	stageRcpt     stage = "RCPT TO"
	stageData     stage = "DATA"
	stageContent  stage = "message content"
	stageAccepted stage = "accepted"
)

// transaction sends MAIL, RCPT, DATA and the message (dot-stuffed unless
// m.DotFree), and
// returns the stage it failed at. The three commands go in one write when
// the server offers PIPELINING (RFC 2920), else each waits for its reply;
// when the last message opened this transaction (see Stream), they were
// written with it and only their replies are left to read. With
// PIPELINING and a next recipient, the next recipient's three commands
// follow the message in its write.
func (s *SMTP) transaction(m Outgoing) (stage, error) {
	from, to := m.From, m.To
	if err := checkEnvelope(from, to); err != nil {
		return stageMail, err
	}
	var st stage
	var err error
	switch {
	case s.open == envelope{from, to}:
		s.open = envelope{}
		s.dl.set(s.timeout)
		st, err = s.commandReplies()
	case s.pipelining:
		st, err = s.pipelinedCommands(from, to)
	default:
		st, err = s.commands(from, to)
	}
	if err != nil {
		return st, err
	}
	s.dl.set(s.dataTimeout)
	text := s.conn.Text
	s.wire = appendContent(s.wire[:0], m.Msg, m.DotFree)
	nextFrom := m.NextFrom
	if nextFrom == "" {
		nextFrom = from
	}
	if s.pipelining && m.Next != "" && checkEnvelope(nextFrom, m.Next) == nil {
		s.wire = s.appendCommands(s.wire, nextFrom, m.Next)
		s.open = envelope{nextFrom, m.Next}
	}
	if _, err := text.W.Write(s.wire); err != nil {
		return stageContent, err
	}
	if err := text.W.Flush(); err != nil {
		return stageContent, err
	}
	if _, _, err := text.ReadResponse(250); err != nil {
		return stageContent, err
	}
	if cap(s.wire) > maxKeptWire {
		s.wire = nil
	}
	return stageAccepted, nil
}

// commands sends MAIL, RCPT and DATA one at a time.
func (s *SMTP) commands(from, to string) (stage, error) {
	if err := s.conn.Mail("<" + from + ">"); err != nil {
		return stageMail, err
	}
	if err := s.conn.Rcpt("<" + to + ">"); err != nil {
		return stageRcpt, err
	}
	text := s.conn.Text
	s.dl.set(s.timeout)
	id, err := text.Cmd("DATA")
	if err != nil {
		return stageData, err
	}
	text.StartResponse(id)
	_, _, err = text.ReadResponse(354)
	text.EndResponse(id)
	return stageData, err
}

// pipelinedCommands writes MAIL, RCPT and DATA at once and reads the three
// replies.
func (s *SMTP) pipelinedCommands(from, to string) (stage, error) {
	s.dl.set(s.timeout)
	w := s.conn.Text.W
	s.wire = s.appendCommands(s.wire[:0], from, to)
	if _, err := w.Write(s.wire); err != nil {
		return stageMail, err
	}
	if err := w.Flush(); err != nil {
		return stageMail, err
	}
	return s.commandReplies()
}

// appendCommands appends MAIL, RCPT and DATA for one recipient.
func (s *SMTP) appendCommands(dst []byte, from, to string) []byte {
	dst = append(dst, "MAIL FROM:<"...)
	dst = append(dst, from...)
	dst = append(dst, '>')
	dst = append(dst, s.mailParams(from, to)...)
	dst = append(dst, "\r\nRCPT TO:<"...)
	dst = append(dst, to...)
	return append(dst, ">\r\nDATA\r\n"...)
}

// commandReplies reads the replies to pipelined MAIL, RCPT and DATA. Should
// DATA be accepted after a refused MAIL or RCPT (a server may), it sends an
// empty message's end, which the server refuses for want of recipients, so
// the connection stays in step.
func (s *SMTP) commandReplies() (stage, error) {
	text := s.conn.Text
	w := text.W
	_, _, mailErr := text.ReadResponse(250)
	if isBroken(mailErr) {
		return stageMail, mailErr
	}
	_, _, rcptErr := text.ReadResponse(25)
	if isBroken(rcptErr) {
		return stageRcpt, rcptErr
	}
	_, _, dataErr := text.ReadResponse(354)
	if isBroken(dataErr) {
		return stageData, dataErr
	}
	switch {
	case mailErr == nil && rcptErr == nil:
		return stageData, dataErr
	case dataErr == nil:
		w.WriteString(".\r\n")
		if err := w.Flush(); err != nil {
			return stageContent, err
		}
		_, _, _ = text.ReadResponse(250)
	}
	if mailErr != nil {
		return stageMail, mailErr
	}
	return stageRcpt, rcptErr
}

// isBroken says whether err is something other than a refusal: the
// connection failed, or the reply made no sense.
func isBroken(err error) bool {
	var reply *textproto.Error
	return err != nil && !errors.As(err, &reply)
}

// mailParams returns what MAIL FROM adds: SMTPUTF8 when an address needs it
// and the server offers it.
func (s *SMTP) mailParams(from, to string) string {
	if s.smtpUTF8 && (!isASCII(from) || !isASCII(to)) {
		return " SMTPUTF8"
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// checkEnvelope refuses envelope addresses that could break a command.
func checkEnvelope(addrs ...string) error {
	for _, a := range addrs {
		if a == "" || strings.ContainsAny(a, "\r\n<> ") {
			return fmt.Errorf("mailer: invalid envelope address %q", a)
		}
	}
	return nil
}

// maxKeptWire is the largest buffer a connection keeps between messages.
const maxKeptWire = 1 << 20

// reset sends RSET after a refused command, and drops the connection if
// that fails too.
func (s *SMTP) reset() {
	s.dl.set(s.timeout)
	if err := s.conn.Reset(); err != nil {
		s.hangUp()
	}
}

// appendContent appends msg as the content of DATA: dot-stuffed, or as it
// is when dotFree says no line of it starts with a dot.
func appendContent(dst, msg []byte, dotFree bool) []byte {
	if !dotFree {
		return appendDotStuffed(dst, msg)
	}
	dst = append(dst, msg...)
	if !bytes.HasSuffix(dst, []byte("\r\n")) {
		dst = append(dst, '\r', '\n')
	}
	return append(dst, '.', '\r', '\n')
}

// appendDotStuffed appends msg as the content of DATA (RFC 5321 4.5.2): a
// dot that starts a line doubled, a CRLF at the end if missing, and the
// final ".\r\n".
func appendDotStuffed(dst, msg []byte) []byte {
	if len(msg) > 0 && msg[0] == '.' {
		dst = append(dst, '.')
	}
	for {
		i := bytes.Index(msg, []byte("\n."))
		if i < 0 {
			break
		}
		dst = append(dst, msg[:i+2]...)
		dst = append(dst, '.')
		msg = msg[i+2:]
	}
	dst = append(dst, msg...)
	if !bytes.HasSuffix(dst, []byte("\r\n")) {
		dst = append(dst, '\r', '\n')
	}
	return append(dst, '.', '\r', '\n')
}
