package newsletter

// Status is where one reader stands with one newsletter.
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

// Counts tells how many readers a newsletter has in each status.
type Counts struct {
	Pending      int64 `json:"pending"`
	Confirmed    int64 `json:"confirmed"`
	Unsubscribed int64 `json:"unsubscribed"`
}

// Contact is what sending needs to know of one reader for one newsletter.
// A reader erased since has an empty Email.
type Contact struct {
	ID     int64
	Email  string
	Name   string
	Status Status
}
