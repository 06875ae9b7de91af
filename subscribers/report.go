package subscribers

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/throttle"
)

// A bounce or complaint that arrives after the SMTP transaction (a
// delivery status notification, a feedback report, a provider's webhook)
// comes in as a Report, whatever its channel. A hard bounce suppresses
// the address; soft bounces are counted per address over SoftBounceWindow,
// and SoftBounceLimit of them suppress it; a complaint ends the
// subscription to the newsletter the message came from (when the report
// says which) and suppresses the address with source complaint.

// Soft bounces that suppress an address, and the span they are counted over.
const (
	SoftBounceLimit  = 3
	SoftBounceWindow = 30 * 24 * time.Hour
)

// Report is one bounce or complaint about a message the service sent.
type Report struct {
	Email      string // the recipient the report is about
	Type       string // BounceHard, BounceSoft or BounceComplaint
	Reason     string // the report's own words: a status code, a diagnostic
	Newsletter string // the newsletter of the message, "" when unknown
	Channel    string // where the report came from: "inbound", "ses", "postmark", ... (for the log)
}

// ReportOutcome says what a Report did.
type ReportOutcome struct {
	Suppressed   bool // the address is suppressed now
	Unsubscribed bool // a complaint ended the subscription to Report.Newsletter
	SoftBounces  int  // soft bounces counted in the window, this one included
}

// keySoftBounces names the sorted set of an address's recent soft bounces,
// in the address's partition.
func keySoftBounces(addr string) string {
	return partitionKey(PartitionOf(addr), "soft:"+MailboxKey(addr))
}

// softBounceScript counts one soft bounce (ARGV: now ms, window ms, a
// unique member) in KEYS[1] and returns how many the window holds.
var softBounceScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', tonumber(ARGV[1]) - tonumber(ARGV[2]))
redis.call('ZADD', KEYS[1], ARGV[1], ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return redis.call('ZCARD', KEYS[1])
`)

// Report applies a bounce or complaint report. An address that is not
// valid is an invalid_email error, an unknown type an invalid error.
func (s *Service) Report(ctx context.Context, r Report) (ReportOutcome, error) {
	addr, err := NormalizeAddress(r.Email)
	if err != nil {
		return ReportOutcome{}, err
	}
	now, reason := s.Now(), cleanReason(r.Reason)
	var out ReportOutcome
	switch r.Type {
	case BounceHard:
		out.Suppressed = true
		err = s.Store.Suppress(ctx, addr, reason, SourceBounce, now)
	case BounceSoft:
		out, err = s.softBounce(ctx, addr, reason, now)
	case BounceComplaint:
		out, err = s.complaint(ctx, addr, r.Newsletter, reason, now)
	default:
		return ReportOutcome{}, errInvalidBounce
	}
	if err != nil {
		return ReportOutcome{}, fmt.Errorf("subscribers: report: %w", err)
	}
	s.Logger.Info("Bounce report applied", "type", r.Type, "channel", r.Channel, "domain", domainOf(addr),
		"suppressed", out.Suppressed, "unsubscribed", out.Unsubscribed)
	return out, nil
}

// softBounce counts a soft bounce and suppresses the address at the
// SoftBounceLimit-th within SoftBounceWindow.
func (s *Service) softBounce(ctx context.Context, addr, reason string, now time.Time) (ReportOutcome, error) {
	n, err := softBounceScript.Run(ctx, s.Store.rdb, []string{keySoftBounces(addr)}, now.UnixMilli(),
		SoftBounceWindow.Milliseconds(), throttle.Member()).Int()
	if err != nil {
		return ReportOutcome{}, err
	}
	out := ReportOutcome{SoftBounces: n}
	if n >= SoftBounceLimit {
		out.Suppressed = true
		err = s.Store.Suppress(ctx, addr, fmt.Sprintf("%d soft bounces in %d days; the last: %s", n, int(SoftBounceWindow.Hours()/24), reason),
			SourceBounce, now)
	}
	return out, err
}

// complaint ends addr's subscription to newsletter nl, when it is known
// and addr has one, with a consent record, and suppresses the address.
func (s *Service) complaint(ctx context.Context, addr, nl, reason string, now time.Time) (ReportOutcome, error) {
	var out ReportOutcome
	if nl != "" && newsletter.ValidateID(nl) == nil {
		id, err := s.Store.SubscriberID(ctx, addr)
		if err != nil {
			return out, err
		}
		if id > 0 {
			prev, err := s.Store.transition(ctx, id, nl, transUnsubscribe, now)
			if err != nil {
				return out, err
			}
			if prev == newsletter.StatusPending || prev == newsletter.StatusConfirmed {
				out.Unsubscribed = true
				c := Consent{Action: ActionUnsubscribe, Newsletters: []string{nl}, At: now, Source: "complaint", Wording: s.ConsentWording}
				if err := s.Store.AddConsent(ctx, id, c); err != nil {
					return out, err
				}
			}
		}
	}
	out.Suppressed = true
	return out, s.Store.Suppress(ctx, addr, reason, SourceComplaint, now)
}
