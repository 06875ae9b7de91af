package mailer

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"

	gomail "github.com/wneessen/go-mail"
	"github.com/wneessen/go-mail/smtp"
)

const (
	defaultTimeout     = 10 * time.Second
	defaultDataTimeout = 2 * time.Minute
)

// SMTPConfig says how to reach an SMTP server.
type SMTPConfig struct {
	Host     string
	Port     int    // 0: 25, 587 or 465 for TLS none, starttls or tls
	Username string // when set, AUTH PLAIN (or LOGIN) is used
	Password string
	TLS      string        // "none", "starttls" or "tls"; "": none for loopback hosts, else starttls
	Timeout  time.Duration // dial and command timeout, default 10s
	// DataTimeout bounds the DATA phase: sending the message and waiting
	// for the server's reply to it. Default 2 minutes.
	DataTimeout time.Duration
	DKIM        *DKIM // when set, every message is signed
}

// SMTP is a Sender that delivers over SMTP with go-mail. It keeps one
// connection open between sends and dials a new one when that fails. It is
// safe for concurrent use; sends are serialized over the one connection.
type SMTP struct {
	addr        string
	timeout     time.Duration
	dataTimeout time.Duration
	dkim        *DKIM
	client      *gomail.Client // configuration only; it never holds the connection
	err         error          // a bad configuration, returned by every Send

	mu   sync.Mutex
	conn *smtp.Client // the open connection, or nil
	dl   *deadlines   // conn's TCP connection (cut when a Send's ctx ends) and its deadlines
	wire []byte       // the DATA content (and next commands) of the last send, kept for its capacity
	open envelope     // the transaction whose commands went out with the last message, replies unread

	pipelining bool // conn's server offers PIPELINING
	smtpUTF8   bool // and SMTPUTF8
	closed     bool
}

// NewSMTP returns a Sender that delivers over SMTP with go-mail. It does not
// connect; a bad configuration is reported by Send. A stalled server fails a
// Send after cfg.Timeout in a command, or cfg.DataTimeout in the DATA phase.
//
// With TLS "none", credentials are only sent to a loopback host: go-mail
// refuses PLAIN and LOGIN over an unencrypted connection to anything else.
func NewSMTP(cfg SMTPConfig) *SMTP {
	cfg = withDefaults(cfg)
	s := &SMTP{
		addr:    net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)),
		timeout: cfg.Timeout, dataTimeout: cfg.DataTimeout, dkim: cfg.DKIM,
	}
	s.client, s.err = newClient(cfg)
	return s
}

func withDefaults(cfg SMTPConfig) SMTPConfig {
	if cfg.TLS == "" {
		cfg.TLS = defaultTLS(cfg.Host)
	}
	if cfg.Port == 0 {
		cfg.Port = defaultPort(cfg.TLS)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = defaultTimeout
	}
	if cfg.DataTimeout <= 0 {
		cfg.DataTimeout = defaultDataTimeout
	}
	return cfg
}

func newClient(cfg SMTPConfig) (*gomail.Client, error) {
	if err := checkTLS(cfg.TLS); err != nil {
		return nil, fmt.Errorf("mailer: smtp config: %w", err)
	}
	opts := []gomail.Option{
		gomail.WithPort(cfg.Port),
		gomail.WithTimeout(cfg.Timeout),
		gomail.WithDialContextFunc(dialer(cfg)),
		tlsOption(cfg.TLS),
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password),
			gomail.WithOpportunisticSMTPAuth(gomail.SMTPAuthPlain, gomail.SMTPAuthLogin))
	}
	c, err := gomail.NewClient(cfg.Host, opts...)
	if err != nil {
		return nil, fmt.Errorf("mailer: smtp config: %w", err)
	}
	return c, nil
}

func tlsOption(mode string) gomail.Option {
	switch mode {
	case tlsStartTLS:
		return gomail.WithTLSPolicy(gomail.TLSMandatory)
	case tlsImplicit:
		return gomail.WithSSL() // the handshake itself is done by dialer
	}
	return gomail.WithTLSPolicy(gomail.NoTLS)
}

// rawConnKey keys the context value through which dialer hands the TCP
// connection it made back to connect.
type rawConnKey struct{}

// dialer connects to cfg's server, with TLS from the start for mode "tls".
// It ignores go-mail's address, which lacks brackets around IPv6 hosts.
func dialer(cfg SMTPConfig) gomail.DialContextFunc {
	addr := net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	return func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		conn, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, err
		}
		if slot, ok := ctx.Value(rawConnKey{}).(*net.Conn); ok {
			*slot = conn
		}
		if cfg.TLS != tlsImplicit {
			return conn, nil
		}
		tc := tls.Client(conn, &tls.Config{ServerName: cfg.Host, MinVersion: tls.VersionTLS12})
		if err := tc.HandshakeContext(ctx); err != nil {
			return nil, err
		}
		return tc, nil
	}
}

// Send builds m, signed when the config has DKIM, and delivers it as
// SendRaw does. Refusals are *textproto.Error replies (see Classify);
// errors connecting (dial, greeting, STARTTLS, AUTH) wrap the network error,
// go-mail's error or the *textproto.Error. If ctx ends mid-send, the
// connection is cut and the error also wraps ctx.Err().
func (s *SMTP) Send(ctx context.Context, m *Message) error {
	from, msg, err := built(m, s.dkim)
	if err != nil {
		return err
	}
	return s.deliverRaw(ctx, Outgoing{From: from, To: m.To, Msg: msg})
}

// built returns the envelope sender of m and m as bytes, signed by dkim
// when it is not nil.
func built(m *Message, dkim *DKIM) (from string, msg []byte, err error) {
	msg, err = Bytes(m, WithDKIM(dkim))
	if err != nil {
		return "", nil, err
	}
	a, err := parseFrom(m.From)
	if err != nil {
		return "", nil, err
	}
	return a.Address, msg, nil
}

// connect dials, says EHLO, starts TLS and authenticates, unless a
// connection is already open.
func (s *SMTP) connect(ctx context.Context) error {
	if s.conn != nil {
		return nil
	}
	var raw net.Conn
	conn, err := s.client.DialToSMTPClientWithContext(context.WithValue(ctx, rawConnKey{}, &raw))
	if err != nil {
		if raw != nil {
			_ = raw.Close() // go-mail leaves it open when EHLO, STARTTLS or AUTH fail
		}
		return fmt.Errorf("mailer: connect to %s: %w", s.addr, err)
	}
	s.conn = conn
	s.pipelining, _ = conn.Extension("PIPELINING")
	s.smtpUTF8, _ = conn.Extension("SMTPUTF8")
	s.dl = &deadlines{conn: raw, timeout: s.timeout, dataTimeout: s.dataTimeout}
	conn.SetLogger(s.dl)
	conn.SetDebugLog(true)
	return nil
}

// hangUp closes the open connection without a goodbye.
func (s *SMTP) hangUp() {
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.conn, s.dl, s.open = nil, nil, envelope{}
}

// Close says QUIT on the open connection, if any, and closes it. A failure
// to say goodbye is not reported. Send fails with ErrClosed afterwards.
func (s *SMTP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	if s.conn == nil {
		return nil
	}
	if s.open == (envelope{}) { // else the server reads QUIT as message content
		s.dl.set(s.timeout)
		_ = s.conn.Quit()
	}
	s.hangUp()
	return nil
}
