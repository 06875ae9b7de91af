package bounces

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"strings"
)

// Kinds of report a message to the bounce address may be.
const (
	ReportDSN       = "dsn"       // a delivery status notification (RFC 3464)
	ReportComplaint = "complaint" // a feedback report (ARF, RFC 5965)
)

// Parsed is what a report says.
type Parsed struct {
	Kind       string
	Recipients []RecipientStatus // a DSN's, one per recipient it reports on
	Feedback   string            // a feedback report's Feedback-Type (abuse, fraud, ...)
	// Original holds the headers of the message the report is about, when
	// the report carries them (both kinds usually do).
	Original textproto.MIMEHeader
}

// RecipientStatus is one recipient's part of a DSN.
type RecipientStatus struct {
	Recipient  string // Final-Recipient (or Original-Recipient), the bare address
	Action     string // failed, delayed, delivered, relayed, expanded
	Status     string // the enhanced status code, "5.1.1"
	Diagnostic string // Diagnostic-Code, the remote server's words
}

// Permanent reports whether the recipient failed for good: action failed
// with a 5.x.x status.
func (r RecipientStatus) Permanent() bool {
	return r.Action == "failed" && strings.HasPrefix(r.Status, "5")
}

// Temporary reports whether the recipient failed for now: a delay, or a
// failure with a 4.x.x status.
func (r RecipientStatus) Temporary() bool {
	return r.Action == "delayed" || (r.Action == "failed" && strings.HasPrefix(r.Status, "4"))
}

// ErrNotReport says that a message is neither a DSN nor a feedback report.
var ErrNotReport = errors.New("bounces: not a delivery status notification or a feedback report")

// ParseReport reads a message received at the bounce address.
func ParseReport(msg []byte) (*Parsed, error) {
	m, err := mail.ReadMessage(bytes.NewReader(msg))
	if err != nil {
		return nil, err
	}
	mediaType, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mediaType != "multipart/report" || params["boundary"] == "" {
		return nil, ErrNotReport
	}
	var p Parsed
	switch strings.ToLower(params["report-type"]) {
	case "delivery-status":
		p.Kind = ReportDSN
	case "feedback-report":
		p.Kind = ReportComplaint
	default:
		return nil, ErrNotReport
	}
	if err := p.readParts(multipart.NewReader(m.Body, params["boundary"])); err != nil {
		return nil, err
	}
	if p.Kind == ReportDSN && len(p.Recipients) == 0 || p.Kind == ReportComplaint && p.Feedback == "" {
		return nil, ErrNotReport
	}
	return &p, nil
}

// readParts reads the report's machine-readable part and the original
// message's headers.
func (p *Parsed) readParts(mr *multipart.Reader) error {
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return err
		}
		mediaType, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
		switch mediaType {
		case "message/delivery-status", "message/global-delivery-status":
			if p.Recipients, err = readDeliveryStatus(part); err != nil {
				return err
			}
		case "message/feedback-report":
			fields, err := readFields(bufio.NewReader(part))
			if err != nil && !errors.Is(err, io.EOF) {
				return err
			}
			p.Feedback = strings.ToLower(strings.TrimSpace(fields.Get("Feedback-Type")))
		case "message/rfc822", "text/rfc822-headers", "message/rfc822-headers", "message/global", "message/global-headers":
			h, err := readFields(bufio.NewReader(part))
			if err != nil && !errors.Is(err, io.EOF) && len(h) == 0 {
				return err
			}
			p.Original = h
		}
	}
}

// readDeliveryStatus reads a message/delivery-status body: the
// per-message fields, then one group of fields per recipient.
func readDeliveryStatus(r io.Reader) ([]RecipientStatus, error) {
	br := bufio.NewReader(r)
	if _, err := readFields(br); err != nil { // the per-message fields
		return nil, err
	}
	var out []RecipientStatus
	for {
		f, err := readFields(br)
		if len(f) > 0 {
			out = append(out, recipientStatus(f))
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return out, err
		}
	}
}

// readFields reads one group of header-style fields, up to a blank line.
func readFields(br *bufio.Reader) (textproto.MIMEHeader, error) {
	for { // groups may be separated by more than one blank line
		b, err := br.Peek(1)
		if err != nil {
			return nil, err
		}
		if b[0] != '\r' && b[0] != '\n' {
			break
		}
		if _, err := br.ReadByte(); err != nil {
			return nil, err
		}
	}
	return textproto.NewReader(br).ReadMIMEHeader()
}

func recipientStatus(f textproto.MIMEHeader) RecipientStatus {
	rcpt := addressOf(f.Get("Final-Recipient"))
	if rcpt == "" {
		rcpt = addressOf(f.Get("Original-Recipient"))
	}
	status := strings.TrimSpace(f.Get("Status"))
	if i := strings.IndexAny(status, " \t("); i > 0 {
		status = status[:i]
	}
	return RecipientStatus{Recipient: rcpt, Action: strings.ToLower(strings.TrimSpace(f.Get("Action"))),
		Status: status, Diagnostic: strings.TrimSpace(f.Get("Diagnostic-Code"))}
}

// addressOf reads "rfc822; reader@example.org" (an address-type and the
// address) as the bare address.
func addressOf(v string) string {
	if _, addr, ok := strings.Cut(v, ";"); ok {
		v = addr
	}
	return strings.Trim(strings.TrimSpace(v), "<>")
}
