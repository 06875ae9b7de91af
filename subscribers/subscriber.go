package subscribers

import (
	"time"

	"newsletter"
)

// Subscriber is one reader's address and everything held about it.
type Subscriber struct {
	ID            int64          `json:"-"`
	Email         string         `json:"email"`
	Name          string         `json:"name,omitempty"`
	CreatedAt     time.Time      `json:"created_at"`
	Subscriptions []Subscription `json:"subscriptions"`
	Consent       []Consent      `json:"consent"`
}

// Subscription is a subscriber's standing with one newsletter.
type Subscription struct {
	Newsletter     string            `json:"newsletter"`
	Status         newsletter.Status `json:"status"`
	SubscribedAt   time.Time         `json:"subscribed_at"`
	ConfirmedAt    *time.Time        `json:"confirmed_at"`
	UnsubscribedAt *time.Time        `json:"unsubscribed_at"`

	begin      int64     // pending: the number of the first confirmation token that confirms it
	linkSentAt time.Time // pending: when its last confirmation link went out
}

// Consent actions.
const (
	ActionSignup      = "signup"
	ActionConfirm     = "confirm"
	ActionUnsubscribe = "unsubscribe"
	ActionImport      = "import"
)

// Consent records one act of the reader (or an editor, for imports) that
// changed what they agreed to: when, from where, for which newsletters.
type Consent struct {
	Action      string    `json:"action"`
	Newsletters []string  `json:"newsletters"`
	At          time.Time `json:"at"`
	IP          string    `json:"ip,omitempty"`
	UserAgent   string    `json:"user_agent,omitempty"`
	Source      string    `json:"source,omitempty"`
	// Wording is the version of the consent wording the reader was shown
	// (Service.ConsentWording at the time).
	Wording string `json:"wording_version,omitempty"`
}

// RequestMeta describes the request that carried a reader's act, for the
// consent record.
type RequestMeta struct {
	IP        string
	UserAgent string
	Source    string
}

// StatusOf returns the subscriber's status with newsletter nl, "" when it
// never subscribed to it.
func (s *Subscriber) StatusOf(nl string) newsletter.Status {
	for _, sub := range s.Subscriptions {
		if sub.Newsletter == nl {
			return sub.Status
		}
	}
	return ""
}

// Newsletters returns the newsletters the subscriber has in status st.
func (s *Subscriber) Newsletters(st newsletter.Status) []string {
	var out []string
	for _, sub := range s.Subscriptions {
		if sub.Status == st {
			out = append(out, sub.Newsletter)
		}
	}
	return out
}
