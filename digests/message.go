package digests

import (
	"html"
	"net/mail"
	"net/url"
	"strconv"
	"strings"

	"newsletter"
	"newsletter/i18n"
	"newsletter/mailer"
)

// Envelope holds what every message of one digest shares besides the body.
type Envelope struct {
	From    string // the newsletter's sender, else the service's
	ListID  string // RFC 2919 List-Id
	BaseURL string
	Signer  Unsubscriber
	Domain  string // right-hand side of Message-IDs
	// Language is the newsletter's, for the greeting.
	Language i18n.Lang
	// Mailto, when set, gives a recipient's mailto unsubscribe address for
	// a newsletter ("" for none), offered in List-Unsubscribe beside the
	// one-click link.
	Mailto func(subscriberID int64, nl string) string
	// FeedbackID is the Feedback-ID header of Gmail's feedback loop:
	// digest, newsletter, kind and sender, no reader.
	FeedbackID string
}

// NewEnvelope returns the envelope of digest d of newsletter n.
func NewEnvelope(d *Digest, n *newsletter.Newsletter, defaultFrom, baseURL string, signer Unsubscriber) *Envelope {
	from := n.From
	if from == "" {
		from = defaultFrom
	}
	host := "localhost"
	if u, err := url.Parse(baseURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return &Envelope{From: from, ListID: listID(n, host), BaseURL: baseURL, Signer: signer, Domain: host,
		Language: i18n.Of(n.Lang()), FeedbackID: feedbackID(d, n, from, host)}
}

// feedbackID is the Feedback-ID of digest d of newsletter n
// ("DIGEST:NEWSLETTER:digest:SENDER"), which Gmail's postmaster tools
// count complaints by; the sender is the domain of from, else host.
func feedbackID(d *Digest, n *newsletter.Newsletter, from, host string) string {
	sender := host
	if a, err := mail.ParseAddress(from); err == nil {
		sender = a.Address[strings.LastIndexByte(a.Address, '@')+1:]
	}
	return d.ID + ":" + n.ID + ":digest:" + sender
}

// listID names the list as RFC 2919 asks: an optional phrase and
// <newsletter.host>. The phrase is kept to plain printable ASCII.
func listID(n *newsletter.Newsletter, host string) string {
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
// it is built for the same digest and recipient. The digest fan-out sends
// the same message through Template and Personal instead.
func (e *Envelope) Message(d *Digest, b *Body, r Recipient) *mailer.Message {
	unsubscribe := e.unsubscribeURL(d, r)
	htmlPart, textPart := b.Personal(r.Name, unsubscribe, e.preferencesURL(r))
	headers := e.sharedHeaders()
	headers["List-Unsubscribe"] = e.listUnsubscribe(d, r, unsubscribe)
	return &mailer.Message{
		From: e.From, To: r.Email, ToName: r.Name, Subject: b.Subject, HTML: htmlPart, Text: textPart,
		MessageID: e.messageID(d, r), Headers: headers,
	}
}

// Template returns the message of digest d encoded once for all its
// recipients, with gaps for the greeting, the unsubscribe link and the
// preference page's link, which Personal fills.
func (e *Envelope) Template(b *Body) (*mailer.Template, error) {
	m := &mailer.Message{From: e.From, Subject: b.Subject, HTML: b.HTML, Text: b.Text, Headers: e.sharedHeaders()}
	return mailer.NewTemplate(m, placeholderGreeting, placeholderUnsubscribe, placeholderPreferences)
}

// Personal sets p to what digest d's message to r has of its own: the
// recipient, the Message-ID, the List-Unsubscribe header and the values of
// the Template's gaps. It reuses p's slices.
func (e *Envelope) Personal(d *Digest, r Recipient, p *mailer.Personal) {
	unsubscribe := e.unsubscribeURL(d, r)
	greeting := greeting(e.Language, r.Name)
	p.To, p.ToName, p.MessageID = r.Email, r.Name, e.messageID(d, r)
	p.Headers = append(p.Headers[:0], mailer.Header{Name: "List-Unsubscribe", Value: e.listUnsubscribe(d, r, unsubscribe)})
	preferences := e.preferencesURL(r)
	p.Text = append(p.Text[:0], greeting, unsubscribe, preferences)
	p.HTML = append(p.HTML[:0], html.EscapeString(greeting), html.EscapeString(unsubscribe), html.EscapeString(preferences))
}

// listUnsubscribe is the List-Unsubscribe header of r's message: the
// one-click link, and the mailto address when there is one (RFC 2369).
func (e *Envelope) listUnsubscribe(d *Digest, r Recipient, link string) string {
	if e.Mailto != nil && r.SubscriberID > 0 {
		if to := e.Mailto(r.SubscriberID, d.Newsletter); to != "" {
			return "<" + link + ">, <mailto:" + to + "?subject=unsubscribe>"
		}
	}
	return "<" + link + ">"
}

func (e *Envelope) sharedHeaders() map[string]string {
	return map[string]string{
		"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		"List-Id":               e.ListID,
		"Precedence":            "bulk",
		"Feedback-ID":           e.FeedbackID,
	}
}

func (e *Envelope) unsubscribeURL(d *Digest, r Recipient) string {
	return e.BaseURL + "/unsubscribe?token=" + e.Signer.UnsubscribeToken(r.SubscriberID, d.Newsletter) + "&d=" + d.ID
}

// preferencesURL is the link to r's preference page; a test recipient,
// who has no subscriber id, gets the list of newsletters.
func (e *Envelope) preferencesURL(r Recipient) string {
	if r.SubscriberID <= 0 {
		return e.BaseURL + "/newsletters"
	}
	return e.BaseURL + "/preferences?token=" + e.Signer.PreferencesToken(r.SubscriberID)
}

func (e *Envelope) messageID(d *Digest, r Recipient) string {
	who := r.SubscriberID // unique across partitions; a test recipient's position otherwise
	if who == 0 {
		who = r.Bit
	}
	return "<" + d.ID + "." + strconv.FormatInt(who, 10) + "@" + e.Domain + ">"
}
