package api

import (
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/subscribers"
	"newsletter/throttle"
)

var (
	errSignupLimited = newsletter.Errorf(newsletter.ERATELIMITED, "Too many signups from your address. Please try again later.")
	errAuthLimited   = newsletter.Errorf(newsletter.ERATELIMITED, "Too many failed attempts from your address. Please try again later.")
)

// failSignup answers a signup that failed. A client that signed up too
// often lately gets 429 and Retry-After: every attempt counts, valid or not,
// so the limit also slows down probing. A valid signup takes from the limit
// in the same round trip as the signup itself; a refused one (err) never
// got that far, so it takes from the limit here first.
func (s *Server) failSignup(c *gin.Context, limit subscribers.SignupLimit, err error) {
	var nerr *newsletter.Error
	if errors.As(err, &nerr) {
		if lerr := limit.Take(c, time.Now()); lerr != nil {
			err = lerr
		}
	}
	var limited *subscribers.LimitedError
	if errors.As(err, &limited) {
		c.Header("Retry-After", retryAfter(limited.Wait))
		err = errSignupLimited
	}
	s.fail(c, err)
}

// take takes one event of limit for the client of c and returns how long
// the client must wait first; 0 when the event is allowed.
func (s *Server) take(c *gin.Context, limit *throttle.Window) (time.Duration, error) {
	return limit.Allow(c, clientKey(c.ClientIP()), time.Now())
}

// answerLimited answers a refused editor request: 429 with Retry-After, as
// JSON like every other editor error.
func answerLimited(c *gin.Context, wait time.Duration) {
	c.Header("Retry-After", retryAfter(wait))
	c.AbortWithStatusJSON(http.StatusTooManyRequests, errorBody{Error: errAuthLimited})
}

// retryAfter is a wait in whole seconds, rounded up, at least 1.
func retryAfter(wait time.Duration) string {
	secs := (wait + time.Second - 1) / time.Second
	return strconv.FormatInt(max(int64(secs), 1), 10)
}

// networkKey is the wider network a client's signups are also limited by:
// the /48 of an IPv6 address, whose holder could rotate through 65,536
// /64s; "" for IPv4.
func networkKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	if a = a.Unmap().WithZone(""); a.Is4() {
		return ""
	}
	p, err := a.Prefix(48)
	if err != nil {
		return ""
	}
	return p.String()
}

// clientKey is what a client is limited by: its IPv4 address, or the /64
// network of its IPv6 address, since one host usually holds a whole /64
// and could otherwise take a fresh address for every request.
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap().WithZone("")
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return a.String()
	}
	return p.String()
}
