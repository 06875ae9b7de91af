package api

import (
	"errors"
	"io"
	"net"
	"syscall"

	"github.com/redis/go-redis/v9"

	"newsletter"
)

// errStoreUnreachable answers a request that failed because Redis could
// not be reached or could not take writes (a failover, a restart): 503,
// as the service will answer again in a moment, not 500. Every reader's
// request may be sent again safely: a signup, confirmation, unsubscription
// or erasure that took effect before the connection broke does nothing
// more the second time.
var errStoreUnreachable = newsletter.Errorf(newsletter.EUNAVAILABLE,
	"The service cannot reach its database right now. Please try again in a moment.")

// redisUnavailablePrefixes are the replies of a Redis that is there but
// cannot serve writes for now.
var redisUnavailablePrefixes = []string{"READONLY", "LOADING", "CLUSTERDOWN", "TRYAGAIN", "MASTERDOWN", "NOREPLICAS"}

// storeUnreachable reports whether err is Redis being unreachable or
// unable to take writes for now, rather than a fault of the request or the
// code.
func storeUnreachable(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		errors.Is(err, redis.ErrClosed) || errors.Is(err, redis.ErrPoolTimeout) {
		return true
	}
	for _, p := range redisUnavailablePrefixes {
		if redis.HasErrorPrefix(err, p) {
			return true
		}
	}
	return false
}
