package mailer

import (
	"bytes"
	"crypto/rand"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"
)

// maxHeaderLine is the longest header line a Template writes (RFC 5322
// 2.1.1 allows 998 bytes before CRLF).
const maxHeaderLine = 998

// Template is one message for many recipients, encoded once: the headers
// all of them share, and the text and HTML parts quoted-printable encoded
// with gaps where each recipient's own words go (slots). Append writes
// the message of one recipient: the personal headers, then the encoded
// parts with the recipient's values encoded into the gaps. Nothing is
// parsed or encoded twice, which is what makes a digest to 100,000
// readers cheap. A Template is safe for concurrent use.
type Template struct {
	from     string // the envelope sender, a bare address
	domain   string // of from, for generated Message-IDs
	shared   []byte // shared header lines, each ending in CRLF
	boundary string
	parts    []templatePart
}

// templatePart is a text/plain or text/html part: its MIME header and its
// encoded pieces, between which go the values of slots[i].
type templatePart struct {
	header []byte
	html   bool
	pieces [][]byte // encoded, each starting at column 0
	slots  []int    // len(pieces)-1 slot numbers
}

// Header is one header field.
type Header struct{ Name, Value string }

// Personal is what differs per recipient of a Template.
type Personal struct {
	To        string   // bare address
	ToName    string   // optional display name
	MessageID string   // optional "<id@host>"; random when empty
	Headers   []Header // e.g. List-Unsubscribe
	// Text and HTML hold the values of the slots, in the order the slots
	// were given to NewTemplate. HTML values must be HTML already
	// (escaped by the caller); they are only encoded here.
	Text, HTML []string
}

// NewTemplate encodes m once for many recipients. m.To, m.ToName and
// m.MessageID are ignored: Personal gives them. Each string of slots that
// m.Text or m.HTML contains marks a gap that Append fills with that
// recipient's value. Header values are made one line, as Build does; m
// must have Text, HTML or both.
func NewTemplate(m *Message, slots ...string) (*Template, error) {
	from, err := parseFrom(m.From)
	if err != nil {
		return nil, err
	}
	t := &Template{from: from.Address, domain: idDomain(from.Address), boundary: rand.Text()}
	if err := t.encodeShared(m, from); err != nil {
		return nil, err
	}
	if m.Text != "" {
		t.parts = append(t.parts, encodePart("text/plain", m.Text, slots, false))
	}
	if m.HTML != "" {
		t.parts = append(t.parts, encodePart("text/html", m.HTML, slots, true))
	}
	if len(t.parts) == 0 {
		return nil, errors.New("mailer: message has neither Text nor HTML")
	}
	return t, nil
}

// From returns the envelope sender (MAIL FROM), a bare address.
func (t *Template) From() string { return t.from }

func (t *Template) encodeShared(m *Message, from *mail.Address) error {
	var h []byte
	h = appendHeader(h, "From", from.String())
	h = appendHeader(h, "Subject", encodeSubject(oneLine(m.Subject)))
	h = append(h, "MIME-Version: 1.0\r\n"...)
	for name, value := range m.Headers {
		if err := checkHeaderName(name); err != nil {
			return err
		}
		h = appendHeader(h, name, oneLine(value))
	}
	if longestLine(h) > maxHeaderLine {
		return errors.New("mailer: template: a header line is longer than 998 bytes")
	}
	t.shared = h
	return nil
}

// encodePart encodes body, split at the slots it holds.
func encodePart(mediaType, body string, slots []string, html bool) templatePart {
	p := templatePart{html: html, header: []byte("Content-Type: " + mediaType + "; charset=UTF-8\r\n" +
		"Content-Transfer-Encoding: quoted-printable\r\n\r\n")}
	for {
		at, slot := nextSlot(body, slots)
		var st qpState
		if at < 0 {
			p.pieces = append(p.pieces, appendQP(nil, body, &st))
			return p
		}
		piece := appendQP(nil, body[:at], &st)
		p.pieces = append(p.pieces, qpSoftBreak(piece, &st))
		p.slots = append(p.slots, slot)
		body = body[at+len(slots[slot]):]
	}
}

// nextSlot returns where the first slot in s starts and which it is, or -1.
func nextSlot(s string, slots []string) (at, slot int) {
	at = -1
	for i, marker := range slots {
		if j := strings.Index(s, marker); marker != "" && j >= 0 && (at < 0 || j < at) {
			at, slot = j, i
		}
	}
	return at, slot
}

// Append appends the message for p to dst, dated now, with CRLF line
// endings, and returns it. No line of it starts with a dot (header lines
// start with a name or white space, the parts are quoted-printable, which
// encodes such a dot), so SMTP sends it as it is (see Outgoing.DotFree).
func (t *Template) Append(dst []byte, p *Personal, now time.Time) ([]byte, error) {
	to, err := parseTo(p.To, p.ToName)
	if err != nil {
		return dst, err
	}
	id, err := messageID(p.MessageID, t.from)
	if err != nil {
		return dst, err
	}
	start := len(dst)
	dst = append(dst, "Date: "...)
	dst = now.AppendFormat(dst, time.RFC1123Z)
	dst = append(dst, "\r\nMessage-ID: <"...)
	dst = append(dst, id...)
	dst = append(dst, ">\r\n"...)
	dst = appendHeader(dst, "To", to.String())
	for _, h := range p.Headers {
		if err := checkHeaderName(h.Name); err != nil {
			return dst, err
		}
		dst = appendHeader(dst, h.Name, oneLine(h.Value))
	}
	if longestLine(dst[start:]) > maxHeaderLine {
		return dst, errors.New("mailer: template: a header line is longer than 998 bytes")
	}
	dst = append(dst, t.shared...)
	return t.appendBody(dst, p)
}

func (t *Template) appendBody(dst []byte, p *Personal) ([]byte, error) {
	if len(t.parts) == 1 {
		dst = append(dst, t.parts[0].header...)
		return t.parts[0].appendEncoded(dst, p)
	}
	dst = append(dst, "Content-Type: multipart/alternative;\r\n boundary=\""...)
	dst = append(dst, t.boundary...)
	dst = append(dst, "\"\r\n\r\n"...)
	var err error
	for _, part := range t.parts {
		dst = append(dst, "--"...)
		dst = append(dst, t.boundary...)
		dst = append(dst, "\r\n"...)
		dst = append(dst, part.header...)
		if dst, err = part.appendEncoded(dst, p); err != nil {
			return dst, err
		}
		dst = append(dst, "\r\n"...)
	}
	dst = append(dst, "--"...)
	dst = append(dst, t.boundary...)
	return append(dst, "--\r\n"...), nil
}

// appendEncoded appends the part's pieces with p's values between them.
func (part *templatePart) appendEncoded(dst []byte, p *Personal) ([]byte, error) {
	values := p.Text
	if part.html {
		values = p.HTML
	}
	for i, piece := range part.pieces {
		dst = append(dst, piece...)
		if i == len(part.slots) {
			break
		}
		slot := part.slots[i]
		if slot >= len(values) { // the caller's mistake, the same for every recipient: Local
			return dst, local(fmt.Errorf("mailer: template: no value for slot %d", slot))
		}
		var st qpState
		dst = appendQP(dst, values[slot], &st)
		dst = qpSoftBreak(dst, &st)
	}
	return dst, nil
}

// appendHeader appends "name: value" CRLF, folded at white space where the
// line would pass 78 bytes. A value without white space is not folded.
func appendHeader(dst []byte, name, value string) []byte {
	dst = append(dst, name...)
	dst = append(dst, ':', ' ')
	col := len(name) + 2
	for value != "" {
		word, rest := value, ""
		if i := strings.IndexByte(value[1:], ' '); i >= 0 {
			word, rest = value[:i+1], value[i+1:]
		}
		if col > len(name)+2 && col+len(word) > foldWidth && word[0] == ' ' {
			dst = append(dst, '\r', '\n')
			col = 0
		}
		dst = append(dst, word...)
		col += len(word)
		value = rest
	}
	return append(dst, '\r', '\n')
}

// longestLine returns the length of the longest CRLF-ended line in b.
func longestLine(b []byte) int {
	longest := 0
	for len(b) > 0 {
		i := bytes.Index(b, []byte("\r\n"))
		if i < 0 {
			i = len(b)
		}
		longest = max(longest, i)
		b = b[min(i+2, len(b)):]
	}
	return longest
}
