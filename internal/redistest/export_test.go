package redistest

import (
	"testing"
	"time"
)

// LeaseKey returns the key in database 0 that holds the lease on db.
var LeaseKey = leaseKey

// DBFrom is DB with the lease drawn from candidates only, waiting at most
// wait, and a lease that lives ttl and is extended every refresh (zero
// values for the defaults).
func DBFrom(tb testing.TB, candidates []int, wait, ttl, refresh time.Duration) int {
	tb.Helper()
	return get(tb, leaseConfig{candidates: candidates, wait: wait, ttl: ttl, refresh: refresh}).db
}
