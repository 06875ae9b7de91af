package subscribers

import (
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

// args returns the arguments with which signupScript takes one
// confirmation email to addr from each limit in turn, and the names of
// those limits; nil and unlimited windows are left out.
func (l *ConfirmLimits) args(addr string) ([]limitArgs, []string) {
	args, names := []limitArgs{}, []string(nil)
	if l == nil {
		return args, names
	}
	key := throttleAddressKey(addr)
	for _, c := range []struct {
		name string
		w    *throttle.Window
		key  string
	}{{limitShort, l.Short, key}, {limitDay, l.Day, key}, {limitSite, l.Site, keyConfirmSite}} {
		if full, window, limit, ok := c.w.Spec(c.key); ok {
			args = append(args, limitArgs{Key: full, Window: window, Limit: limit, Member: throttle.Member()})
			names = append(names, c.name)
		}
	}
	return args, names
}
