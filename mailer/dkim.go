package mailer

import (
	"bytes"
	"crypto"
	"errors"
	"fmt"
	"os"
	"strings"

	gomail "github.com/wneessen/go-mail"
)

// dkimFields are the header fields a signature covers, in this order; h=
// names each as often as the message has it (presentFields).
var dkimFields = []string{
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"List-Unsubscribe", "List-Unsubscribe-Post", "List-Id", "Feedback-ID",
}

// oversigned are the fields that h= names once more than the message has
// them (RFC 6376, 8.15): a verifier reads the extra name as an empty field,
// so a field of these added on the way, or a second one, breaks the
// signature instead of riding on it.
var oversigned = map[string]bool{
	"from": true, "to": true, "subject": true, "date": true, "message-id": true,
	"list-id": true, "list-unsubscribe": true, "list-unsubscribe-post": true,
}

// DKIM signs outgoing messages with one private key for one domain and
// selector (RFC 6376), with relaxed/relaxed canonicalization. It is safe for
// concurrent use. Pass it as SMTPConfig.DKIM, Outbox.DKIM or WithDKIM.
type DKIM struct {
	domain   string
	selector string
	key      crypto.Signer
}

// LoadDKIM reads a PEM private key, RSA (PKCS#1 or PKCS#8) or Ed25519
// (PKCS#8), from keyFile, to sign for domain (the d= tag) with selector
// (s=, whose public key is published at selector._domainkey.domain). It
// fails when the file is missing or unreadable, or when it holds no key that
// can sign.
func LoadDKIM(domain, selector, keyFile string) (*DKIM, error) {
	if !isDNSName(domain) {
		return nil, fmt.Errorf("mailer: dkim: invalid domain %q", domain)
	}
	if !isDNSName(selector) {
		return nil, fmt.Errorf("mailer: dkim: invalid selector %q", selector)
	}
	pemBytes, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("mailer: dkim key: %w", err)
	}
	key, err := gomail.PrivKeyFromPEM(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("mailer: dkim key %s: want a PEM RSA or Ed25519 private key (PKCS#1 or PKCS#8): %w", keyFile, err)
	}
	d := &DKIM{domain: domain, selector: selector, key: key}
	// Sign once, so that a key the signer refuses (an RSA key too short
	// for crypto/rsa, say) fails here rather than on every send.
	if _, err := d.signer([]string{"From"}).Sign([]byte("From: <dkim@"+domain+">\r\n"), nil); err != nil {
		return nil, fmt.Errorf("mailer: dkim key %s: %w", keyFile, err)
	}
	return d, nil
}

// isDNSName says whether s is a non-empty run of letters, digits, '-', '_'
// and '.'.
func isDNSName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_' || c == '.') {
			return false
		}
	}
	return s != ""
}

// signer returns a go-mail signer of fields. It is new for every message:
// go-mail's Signer records its algorithm on first use, so sharing one
// between goroutines would race.
func (d *DKIM) signer(fields []string) *gomail.DKIMSigner {
	s := gomail.NewDKIMSigner(d.domain, d.selector, d.key)
	s.SignHeaders(fields...)
	s.HeaderCanonicalization(gomail.CanonicalizationRelaxed)
	s.BodyCanonicalization(gomail.CanonicalizationRelaxed)
	return s
}

// sign adds a DKIM-Signature header field to msg. It renders msg once to
// sign it; go-mail renders a message the same way every time (its date,
// message ID and MIME boundaries are fixed once made). Its errors are
// Local: our side failed to render or sign.
func (d *DKIM) sign(msg *gomail.Msg) error {
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		return local(fmt.Errorf("mailer: dkim: %w", err))
	}
	header, body, ok := bytes.Cut(buf.Bytes(), []byte("\r\n\r\n"))
	if !ok {
		return local(errors.New("mailer: dkim: message has no body"))
	}
	field, err := d.signer(presentFields(header)).Sign(header, body)
	if err != nil {
		return local(fmt.Errorf("mailer: dkim: %w", err))
	}
	msg.SetGenHeaderPreformatted("DKIM-Signature", refold(field))
	return nil
}

// presentFields returns the h= list of header: each name in dkimFields as
// many times as header has it, and the oversigned ones once more.
func presentFields(header []byte) []string {
	count := make(map[string]int)
	for line := range bytes.SplitSeq(header, []byte("\r\n")) {
		if name, _, ok := bytes.Cut(line, []byte(":")); ok && line[0] != ' ' && line[0] != '\t' {
			count[strings.ToLower(string(name))]++
		}
	}
	var fields []string
	for _, f := range dkimFields {
		n := count[strings.ToLower(f)]
		if oversigned[strings.ToLower(f)] {
			n++
		}
		for range n {
			fields = append(fields, f)
		}
	}
	return fields
}

// signRaw returns msg, a whole message with CRLF line endings, with a
// DKIM-Signature field in front; a nil d returns msg as it is. Its errors
// are Local: a message without a body comes from our side too.
func (d *DKIM) signRaw(msg []byte) ([]byte, error) {
	if d == nil {
		return msg, nil
	}
	header, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		return nil, local(errors.New("mailer: dkim: message has no body"))
	}
	field, err := d.signer(presentFields(header)).Sign(header, body)
	if err != nil {
		return nil, local(fmt.Errorf("mailer: dkim: %w", err))
	}
	signed := make([]byte, 0, len(msg)+len(field)+64)
	signed = append(signed, "DKIM-Signature: "...)
	signed = append(signed, refold(field)...)
	signed = append(signed, "\r\n"...)
	return append(signed, msg...), nil
}
