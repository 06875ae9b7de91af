package mailer

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
)

// TLS modes of SMTPConfig.TLS.
const (
	tlsNone     = "none"     // plain text
	tlsStartTLS = "starttls" // plain text upgraded with STARTTLS, which must succeed
	tlsImplicit = "tls"      // TLS from the first byte (SMTPS)
)

// ParseSMTPURL parses smtp://[user:pass@]host[:port][?tls=none|starttls|tls].
//
// tls defaults to "none" when host is a loopback name or address (localhost,
// 127.0.0.1, ::1) and to "starttls" otherwise. The port defaults to 25, 587
// or 465 for none, starttls and tls. User and password are percent-decoded.
// Error messages never include the password.
func ParseSMTPURL(raw string) (SMTPConfig, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, password included
		}
		return SMTPConfig{}, fmt.Errorf("mailer: invalid SMTP URL: %w", err)
	}
	if u.Scheme != "smtp" {
		return SMTPConfig{}, fmt.Errorf("mailer: invalid SMTP URL: unknown scheme %q (want smtp)", u.Scheme)
	}
	if u.Path != "" && u.Path != "/" {
		return SMTPConfig{}, errors.New("mailer: invalid SMTP URL: unexpected path")
	}
	cfg := SMTPConfig{Host: u.Hostname()}
	if cfg.Host == "" {
		return SMTPConfig{}, errors.New("mailer: invalid SMTP URL: missing host")
	}
	if cfg.TLS, err = parseTLSParam(u.RawQuery, cfg.Host); err != nil {
		return SMTPConfig{}, fmt.Errorf("mailer: invalid SMTP URL: %w", err)
	}
	if cfg.Port, err = parsePort(u.Port(), cfg.TLS); err != nil {
		return SMTPConfig{}, fmt.Errorf("mailer: invalid SMTP URL: %w", err)
	}
	if u.User != nil {
		cfg.Username = u.User.Username()
		cfg.Password, _ = u.User.Password()
	}
	return cfg, nil
}

func parseTLSParam(rawQuery, host string) (string, error) {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("bad query: %w", err)
	}
	for k := range q {
		if k != "tls" {
			return "", fmt.Errorf("unknown parameter %q (want tls)", k)
		}
	}
	mode := q.Get("tls")
	if mode == "" {
		return defaultTLS(host), nil
	}
	return mode, checkTLS(mode)
}

func parsePort(s, mode string) (int, error) {
	if s == "" {
		return defaultPort(mode), nil
	}
	port, err := strconv.Atoi(s)
	if err != nil || port < 1 || port > 65535 {
		return 0, fmt.Errorf("bad port %q (want 1 to 65535)", s)
	}
	return port, nil
}

// defaultTLS is "none" for a loopback host and "starttls" for any other.
func defaultTLS(host string) string {
	if host == "localhost" {
		return tlsNone
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return tlsNone
	}
	return tlsStartTLS
}

func defaultPort(mode string) int {
	switch mode {
	case tlsStartTLS:
		return 587
	case tlsImplicit:
		return 465
	}
	return 25
}

func checkTLS(mode string) error {
	switch mode {
	case tlsNone, tlsStartTLS, tlsImplicit:
		return nil
	}
	return fmt.Errorf("unknown tls mode %q (want none, starttls or tls)", mode)
}
