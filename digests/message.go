package digests

import (
	"net/url"
	"strconv"
	"strings"

	"newsletter/mailer"
	"newsletter/subscribers"
)

// Envelope holds what every message of one digest shares besides the body.
type Envelope struct {
	From    string // the newsletter's sender, else the service's
	ListID  string // RFC 2919 List-Id
	BaseURL string
	Signer  *subscribers.Signer
	Domain  string // right-hand side of Message-IDs
}

// NewEnvelope returns the envelope of digest d of newsletter n.
func NewEnvelope(d *Digest, n *subscribers.Newsletter, defaultFrom, baseURL string, signer *subscribers.Signer) *Envelope {
	from := n.From
	if from == "" {
		from = defaultFrom
	}
	host := "localhost"
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return &Envelope{From: from, ListID: listID(n, host), BaseURL: baseURL, Signer: signer, Domain: host}
}

// listID names the list as RFC 2919 asks: an optional phrase and
// <newsletter.host>. The phrase is kept to plain printable ASCII.
func listID(n *subscribers.Newsletter, host string) string {
	phrase := strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e || r == '"' || r == '\\' {
			return -1
		}
		return r
	}, n.Name)
	id := "<" + n.ID + "." + host + ">"
	if phrase == "" {
		return id
	}
	return `"` + phrase + `" ` + id
}

// Message returns the message of digest d for recipient r, with its
// personal unsubscribe link and a Message-ID that is the same every time
// it is built for the same digest and recipient.
func (e *Envelope) Message(d *Digest, b *Body, r Recipient) *mailer.Message {
	unsubscribe := e.BaseURL + "/unsubscribe?token=" + e.Signer.UnsubscribeToken(r.SubscriberID, d.Newsletter)
	htmlPart, textPart := b.Personal(r.Name, unsubscribe)
	return &mailer.Message{
		From: e.From, To: r.Email, ToName: r.Name, Subject: b.Subject, HTML: htmlPart, Text: textPart,
		MessageID: "<" + d.ID + "." + strconv.FormatInt(r.Bit, 10) + "@" + e.Domain + ">",
		Headers: map[string]string{
			"List-Unsubscribe":      "<" + unsubscribe + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
			"List-Id":               e.ListID,
			"Precedence":            "bulk",
		},
	}
}
