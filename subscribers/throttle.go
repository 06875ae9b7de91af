package subscribers

import (
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter"
	"newsletter/throttle"
)

// ConfirmLimits caps confirmation emails, so that the signup form cannot be
// used to bomb a mailbox or to make the site a spammer: Address counts the
// emails to one address (by default one per 10 minutes and five per 24
// hours, kept as one record per address), Site those to anyone. A nil
// limit limits nothing; a nil *ConfirmLimits sets no limit at all.
//
// The limits are checked in order, Address's windows and then Site, each
// taking a slot only when it allows, so a signup refused by the 10-minute
// window uses up nothing: a bomber spends neither the victim's day nor the
// site's ceiling. A signup refused by a later window has taken a slot of
// the earlier ones without sending: refused by the day's window, the
// address waits at most 10 more minutes once a day slot frees; refused by
// Site (a flood across many addresses), the address loses one of its
// tries. Either errs on the side of sending less; the limits are never
// exceeded.
type ConfirmLimits struct {
	Address *throttle.Windows
	Site    *throttle.Window
}

// NewConfirmLimits returns the contract's per-address limits, one email
// per address per 10 minutes and five per 24 hours, and a site-wide ceiling
// of site, kept in rdb and shared by every process.
func NewConfirmLimits(rdb redis.UniversalClient, site throttle.Rate) *ConfirmLimits {
	return &ConfirmLimits{
		Address: throttle.NewWindows(rdb, prefixConfirmAddress,
			throttle.Rate{N: 1, Per: 10 * time.Minute}, throttle.Rate{N: 5, Per: 24 * time.Hour}),
		Site: throttle.NewWindow(rdb, prefixGlobal, site),
	}
}

// name names the limit at position i of those args lays out, for the log
// when it holds an email back: the address's by their rates, as "address
// 1/10m0s", and "site".
func (l *ConfirmLimits) name(i int) string {
	if rates := l.Address.Rates(); i < len(rates) {
		return fmt.Sprintf("address %d/%s", rates[i].N, rates[i].Per)
	}
	return "site"
}

// args returns the limits signupScript takes one confirmation email to
// the address with MailboxKey mailbox (in partition p) from, in the order they are
// checked; nil and unlimited windows are left out.
func (l *ConfirmLimits) args(mailbox string, p newsletter.Partition) signupLimits {
	var args signupLimits
	if l == nil {
		return args
	}
	if key, windows, ttl, ok := l.Address.Spec(confirmMailboxKey(mailbox, p)); ok {
		args.address = &eachArgs{key: key, windows: windows, ttl: ttl}
	}
	if key, window, limit, ok := l.Site.Spec(keyConfirmSite); ok {
		args.site = &windowArgs{key: key, window: window, limit: limit, member: throttle.Member()}
	}
	return args
}
