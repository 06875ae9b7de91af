package subscribers

import "time"

// Status is where one subscriber stands with one newsletter.
type Status string

// The statuses of a subscription. A subscription starts pending, becomes
// confirmed through the link in the confirmation email, and unsubscribed
// when the reader leaves.
const (
	StatusPending      Status = "pending"
	StatusConfirmed    Status = "confirmed"
	StatusUnsubscribed Status = "unsubscribed"
)

// Statuses lists every status, in the order a subscription goes through them.
var Statuses = [...]Status{StatusPending, StatusConfirmed, StatusUnsubscribed}

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
	Newsletter     string     `json:"newsletter"`
	Status         Status     `json:"status"`
	SubscribedAt   time.Time  `json:"subscribed_at"`
	ConfirmedAt    *time.Time `json:"confirmed_at"`
	UnsubscribedAt *time.Time `json:"unsubscribed_at"`
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
}

// Counts tells how many subscribers a newsletter has in each status.
type Counts struct {
	Pending      int64 `json:"pending"`
	Confirmed    int64 `json:"confirmed"`
	Unsubscribed int64 `json:"unsubscribed"`
}

// RequestMeta describes the request that carried a reader's act, for the
// consent record.
type RequestMeta struct {
	IP        string
	UserAgent string
	Source    string
}
