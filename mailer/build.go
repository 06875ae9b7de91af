package mailer

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// A BuildOption changes what Build does.
type BuildOption func(*buildConfig)

type buildConfig struct {
	dkim *DKIM
}

// WithDKIM has Build sign the message with d; a nil d signs nothing.
func WithDKIM(d *DKIM) BuildOption {
	return func(c *buildConfig) { c.dkim = d }
}

// Build returns the go-mail message for m: From, To, Subject, Date,
// Message-ID, MIME-Version, the extra headers and a body that is
// multipart/alternative with text/plain then text/html (or a single part
// when only one of Text and HTML is set). WithDKIM adds a DKIM-Signature.
//
// CR and LF in From, ToName, Subject and header values are replaced by a
// space, so no value can start a header of its own. From must parse as an
// RFC 5322 address, To as a bare address. When m.MessageID is empty a random
// one at the From domain is generated, so every call gives a new one.
func Build(m *Message, opts ...BuildOption) (*gomail.Msg, error) {
	var cfg buildConfig
	for _, opt := range opts {
		opt(&cfg)
	}
	msg, err := build(m)
	if err != nil || cfg.dkim == nil {
		return msg, err
	}
	if err := cfg.dkim.sign(msg); err != nil {
		return nil, err
	}
	return msg, nil
}

func build(m *Message) (*gomail.Msg, error) {
	if m == nil {
		return nil, errors.New("mailer: nil message")
	}
	from, err := parseFrom(m.From)
	if err != nil {
		return nil, err
	}
	to, err := parseTo(m.To, m.ToName)
	if err != nil {
		return nil, err
	}
	id, err := messageID(m.MessageID, from.Address)
	if err != nil {
		return nil, err
	}
	msg := gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(from)
	msg.ToMailAddress(to)
	msg.SetGenHeaderPreformatted(gomail.HeaderSubject, encodeSubject(oneLine(m.Subject)))
	msg.SetDate()
	msg.SetMessageIDWithValue(id)
	if err := setHeaders(msg, m.Headers); err != nil {
		return nil, err
	}
	if err := setBody(msg, m.Text, m.HTML); err != nil {
		return nil, err
	}
	return msg, nil
}

// Bytes returns m, built by Build with opts, as a raw RFC 5322 message with
// CRLF line endings.
func Bytes(m *Message, opts ...BuildOption) ([]byte, error) {
	msg, err := Build(m, opts...)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return nil, local(fmt.Errorf("mailer: write message: %w", err))
	}
	return buf.Bytes(), nil
}

func parseFrom(raw string) (*mail.Address, error) {
	a, err := mail.ParseAddress(oneLine(raw))
	if err != nil {
		return nil, fmt.Errorf("mailer: invalid from %q: %w", raw, err)
	}
	return a, nil
}

func parseTo(addr, name string) (*mail.Address, error) {
	a, err := mail.ParseAddress(oneLine(addr))
	if err != nil {
		return nil, fmt.Errorf("mailer: invalid to %q: %w", addr, err)
	}
	if a.Name != "" {
		return nil, fmt.Errorf("mailer: invalid to %q: want a bare address (the name goes in ToName)", addr)
	}
	a.Name = strings.TrimSpace(oneLine(name))
	return a, nil
}

// messageID returns the Message-ID without its angle brackets: given, once
// checked, or a random one at the domain of from.
func messageID(given, from string) (string, error) {
	if given == "" {
		return rand.Text() + "@" + idDomain(from), nil
	}
	id := strings.TrimSuffix(strings.TrimPrefix(given, "<"), ">")
	at := strings.LastIndexByte(id, '@')
	if at <= 0 || at == len(id)-1 || !isIDText(id) {
		return "", fmt.Errorf("mailer: invalid message ID %q (want <id@host>)", given)
	}
	return id, nil
}

func idDomain(addr string) string {
	domain := addr[strings.LastIndexByte(addr, '@')+1:]
	if domain == "" || !isIDText(domain) {
		return "localhost"
	}
	return domain
}

// isIDText says whether s is printable ASCII without spaces or angle brackets.
func isIDText(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '<' || c == '>' {
			return false
		}
	}
	return true
}

func setHeaders(msg *gomail.Msg, headers map[string]string) error {
	for name, value := range headers {
		if err := checkHeaderName(name); err != nil {
			return err
		}
		msg.SetGenHeader(gomail.Header(name), oneLine(value))
	}
	return nil
}

func checkHeaderName(name string) error {
	if name == "" {
		return errors.New("mailer: empty header name")
	}
	if name[0] == '.' { // a line starting with a dot would need dot-stuffing; no real field does
		return fmt.Errorf("mailer: invalid header name %q", name)
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c <= ' ' || c > '~' || c == ':' {
			return fmt.Errorf("mailer: invalid header name %q", name)
		}
	}
	if isReserved(name) {
		return fmt.Errorf("mailer: header %q is set by the mailer, not by Message.Headers", name)
	}
	return nil
}

// isReserved says whether Build sets the header itself (or, for Cc and Bcc,
// whether setting it would mislead: they would not be envelope recipients).
func isReserved(name string) bool {
	switch strings.ToLower(name) {
	case "from", "to", "cc", "bcc", "subject", "date", "message-id",
		"mime-version", "content-type", "content-transfer-encoding", "dkim-signature":
		return true
	}
	return false
}

func setBody(msg *gomail.Msg, text, html string) error {
	switch {
	case text != "" && html != "":
		msg.SetBodyString(gomail.TypeTextPlain, text)
		msg.AddAlternativeString(gomail.TypeTextHTML, html)
	case text != "":
		msg.SetBodyString(gomail.TypeTextPlain, text)
	case html != "":
		msg.SetBodyString(gomail.TypeTextHTML, html)
	default:
		return errors.New("mailer: message has neither Text nor HTML")
	}
	return nil
}

// oneLine replaces every run of CR and LF in s by a single space.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	inBreak := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			if !inBreak {
				b.WriteByte(' ')
			}
			inBreak = true
			continue
		}
		inBreak = false
		b.WriteByte(c)
	}
	return b.String()
}
