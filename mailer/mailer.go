// Package mailer builds email messages and delivers them over SMTP or into a dev outbox folder. It knows nothing of subscribers or newsletters.
package mailer

import "context"

// Message is one email to one recipient.
type Message struct {
	From      string            // "Daily Brief <news@example.org>" or a bare address
	To        string            // bare address
	ToName    string            // optional display name of the recipient
	Subject   string            // plain text; encoded by the builder when needed
	Text      string            // text/plain part
	HTML      string            // text/html part
	Headers   map[string]string // extra headers, e.g. "List-Unsubscribe"
	MessageID string            // optional "<id@host>"; generated (random, @ the From domain) if empty
}

// Sender delivers messages.
type Sender interface {
	// Send delivers m or returns why it could not; see Classify.
	Send(ctx context.Context, m *Message) error
	// Close releases the Sender's resources. Send must not be called after.
	Close() error
}

var (
	_ Sender = (*SMTP)(nil)
	_ Sender = (*Outbox)(nil)
	_ Sender = (*Pool)(nil)
)
