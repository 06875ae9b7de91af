package digests

import (
	"time"

	"newsletter/articles"
)

// Status is where a digest stands.
type Status string

// The statuses of a digest. A digest is sent once every recipient is
// delivered, failed or skipped; failed only when it could not be sent at all.
const (
	StatusQueued   Status = "queued"
	StatusSending  Status = "sending"
	StatusSent     Status = "sent"
	StatusFailed   Status = "failed"
	StatusCanceled Status = "canceled"
)

// Finished reports whether a digest in status s will send nothing more.
func (s Status) Finished() bool {
	return s == StatusSent || s == StatusFailed || s == StatusCanceled
}

// Counts is a digest's progress.
type Counts struct {
	Total   int64 `json:"total"`
	Sent    int64 `json:"sent"`
	Failed  int64 `json:"failed"`
	Skipped int64 `json:"skipped"`
}

// ReportCounts are what came back about a digest after it was sent:
// bounces reported later (by a DSN to its tagged envelope sender),
// complaints, and unsubscribes from its links.
type ReportCounts struct {
	BouncedHard  int64 `json:"bounced_hard"`
	BouncedSoft  int64 `json:"bounced_soft"`
	Complaints   int64 `json:"complaints"`
	Unsubscribes int64 `json:"unsubscribes"`
}

// Kinds of report a digest counts (CountReport).
const (
	ReportHard        = "bounced_hard"
	ReportSoft        = "bounced_soft"
	ReportComplaint   = "complaints"
	ReportUnsubscribe = "unsubscribes"
)

// Done returns how many recipients have an outcome.
func (c Counts) Done() int64 { return c.Sent + c.Failed + c.Skipped }

// Digest is one issue of a newsletter.
type Digest struct {
	ID             string             `json:"id"`
	Newsletter     string             `json:"newsletter"`
	Status         Status             `json:"status"`
	Subject        string             `json:"subject"`
	Intro          string             `json:"intro,omitempty"`
	Articles       []articles.Article `json:"articles"`
	Since          time.Time          `json:"since"`
	Cutoff         time.Time          `json:"cutoff"`
	TestRecipients []string           `json:"test_recipients,omitempty"`
	CreatedAt      time.Time          `json:"created_at"`
	FinishedAt     *time.Time         `json:"finished_at"`
	Counts         Counts             `json:"counts"`
	Reports        ReportCounts       `json:"reports"`
	// Engagement is its clicks and opens ("clicks", "opens"), counted
	// without naming readers; Store.Engagement fills it in (Get does not).
	Engagement
	// SendAt is when a scheduled digest starts; nil for one sent at once.
	// Its audience is frozen then, not when it is created.
	SendAt *time.Time `json:"send_at,omitempty"`
	// LastError is why the digest's latest try to send went wrong, while
	// it is retried or after it ended; nil when nothing went wrong.
	LastError *Problem `json:"last_error,omitempty"`
}

// Problem is an error met while sending, as editors see it: a sentence and
// when it happened.
type Problem struct {
	Message string    `json:"message"`
	At      time.Time `json:"at"`
}

// IsTest reports whether the digest goes to test recipients only.
func (d *Digest) IsTest() bool { return len(d.TestRecipients) > 0 }

// Request is what an editor asks for when creating a digest; every field is
// optional.
type Request struct {
	Subject        string
	Intro          string
	Since          time.Time
	MaxArticles    int
	TestRecipients []string
	IdempotencyKey string
	// Articles names the digest's articles by id or URL, in order; empty,
	// the default selection goes out.
	Articles []string
	// Lead names, by id or URL, the article this digest shows first as its
	// lead; empty, the articles keep their own lead marks.
	Lead string
	// SendAt schedules the digest; zero sends it at once.
	SendAt time.Time
}

// Date is the day digest d is dated by: its send_at when it is scheduled,
// else when it was made.
func (d *Digest) Date() time.Time {
	if d.SendAt != nil {
		return *d.SendAt
	}
	return d.CreatedAt
}

// Waiting reports whether d is a scheduled digest that has not started at
// now: queued, with its send_at still ahead.
func (d *Digest) Waiting(now time.Time) bool {
	return d.Status == StatusQueued && d.SendAt != nil && d.SendAt.After(now)
}
