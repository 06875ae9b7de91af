package articles

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// Feeds are fetched from addresses editors type, so a feed could point the
// poller inside the network: at Redis, at a cloud's metadata service, at
// an admin page on loopback. The poller's client refuses, at dial time
// (after DNS, and for every redirect, which dials again), every address
// that is not public: loopback, private, link-local (169.254.169.254, the
// metadata service, among them), unique-local, carrier-grade NAT,
// unspecified and multicast. NEWSLETTER_FEED_ALLOW_PRIVATE=true allows
// them, for a feed on the same network (dev mode sets it).

// blockedPrefixes are the networks that IsPrivate and its kin leave out.
var blockedPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),
	netip.MustParsePrefix("100.64.0.0/10"), // carrier-grade NAT
	netip.MustParsePrefix("192.0.0.0/24"),  // IETF protocol assignments
	netip.MustParsePrefix("198.18.0.0/15"), // benchmarking
	netip.MustParsePrefix("240.0.0.0/4"),   // reserved, broadcast
	netip.MustParsePrefix("64:ff9b::/96"),  // NAT64, which reaches IPv4 inside
}

// PublicAddr reports whether a is an address on the public internet, one a
// feed may live at.
func PublicAddr(a netip.Addr) bool {
	a = a.Unmap()
	if !a.IsValid() || a.IsLoopback() || a.IsPrivate() || a.IsLinkLocalUnicast() || a.IsLinkLocalMulticast() ||
		a.IsInterfaceLocalMulticast() || a.IsMulticast() || a.IsUnspecified() {
		return false
	}
	for _, p := range blockedPrefixes {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

// errPrivateAddress is the dial error of a feed at an address that is not
// public.
type errPrivateAddress struct{ addr string }

func (e *errPrivateAddress) Error() string {
	return fmt.Sprintf("the feed's address %s is not public (set NEWSLETTER_FEED_ALLOW_PRIVATE=true to allow it)", e.addr)
}

// FeedClient returns the HTTP client the poller fetches feeds with: a
// timeout of DefaultTimeout, at most 5 redirects, and, unless allowPrivate,
// public addresses only.
func FeedClient(allowPrivate bool) *http.Client {
	dialer := &net.Dialer{Timeout: 10 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil || !PublicAddr(ap.Addr()) {
				return &errPrivateAddress{address}
			}
			return nil
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = nil // a proxy would dial for us, past the check
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		return dialer.DialContext(ctx, network, addr)
	}
	return &http.Client{Timeout: DefaultTimeout, Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return fmt.Errorf("more than 5 redirects")
			}
			return nil
		}}
}
