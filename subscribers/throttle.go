package subscribers

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/throttle"
)

// ConfirmLimits caps confirmation emails, so that the signup form cannot be
// used to bomb a mailbox or to make the site a spammer: Short and Day count
// the emails to one address, Site those to anyone. A nil window sets no
// limit; a nil *ConfirmLimits sets none at all.
//
// The windows are checked in order Short, Day, Site, each taking a slot
// only when it allows, so a signup refused by the 10-minute window uses up
// nothing: a bomber spends neither the victim's day nor the site's ceiling.
// A signup refused by a later window has taken a slot of the earlier ones
// without sending: refused by Day, the address waits at most 10 more
// minutes once a day slot frees; refused by Site (a flood across many
// addresses), the address loses one of its tries. Either errs on the side
// of sending less; the limits are never exceeded.
type ConfirmLimits struct {
	Short *throttle.Window
	Day   *throttle.Window
	Site  *throttle.Window
}

// NewConfirmLimits returns the contract's per-address limits, one email
// per address per 10 minutes and five per 24 hours, and a site-wide ceiling
// of site, kept in rdb and shared by every process.
func NewConfirmLimits(rdb redis.UniversalClient, site throttle.Rate) *ConfirmLimits {
	return &ConfirmLimits{
		Short: throttle.NewWindow(rdb, prefixConfirmShort, throttle.Rate{N: 1, Per: 10 * time.Minute}),
		Day:   throttle.NewWindow(rdb, prefixConfirmDay, throttle.Rate{N: 5, Per: 24 * time.Hour}),
		Site:  throttle.NewWindow(rdb, prefixConfirmSite, site),
	}
}

// Names of the limits, as logged when one holds an email back.
const (
	limitShort = "address_10m"
	limitDay   = "address_day"
	limitSite  = "site"
)

// allow takes one confirmation email to addr at now from each limit in
// turn, and returns the name of the first that refuses ("" when all allow).
func (l *ConfirmLimits) allow(ctx context.Context, addr string, now time.Time) (string, error) {
	if l == nil {
		return "", nil
	}
	key := throttleAddressKey(addr)
	checks := []struct {
		name string
		w    *throttle.Window
		key  string
	}{{limitShort, l.Short, key}, {limitDay, l.Day, key}, {limitSite, l.Site, keyConfirmSite}}
	for _, c := range checks {
		if c.w == nil {
			continue
		}
		if wait, err := c.w.Allow(ctx, c.key, now); err != nil || wait > 0 {
			return c.name, err
		}
	}
	return "", nil
}
