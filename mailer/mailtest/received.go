package mailtest

import (
	"bytes"
	"net/mail"
	"slices"
	"time"
)

// Received is one message as delivered.
type Received struct {
	From string    // MAIL FROM
	To   []string  // accepted RCPT TOs
	Data []byte    // the raw message, CRLF line endings
	At   time.Time // when DATA ended
}

// Parse parses Data as an RFC 5322 message.
func (r Received) Parse() (*mail.Message, error) {
	return mail.ReadMessage(bytes.NewReader(r.Data))
}

// Header returns the first value of the named header, or "" if it is
// missing or Data does not parse. The value is not decoded.
func (r Received) Header(name string) string {
	m, err := r.Parse()
	if err != nil {
		return ""
	}
	return m.Header.Get(name)
}

func (r Received) clone() Received {
	r.To = slices.Clone(r.To)
	r.Data = slices.Clone(r.Data)
	return r
}
