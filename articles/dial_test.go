package articles_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"newsletter/articles"
)

// TestFeedsReachPublicAddressesOnly: a newsletter's feed at a loopback,
// private, link-local or metadata address is refused at dial time, and so
// is a redirect to one (issue 17, item 5); FeedClient(true) allows them.
func TestFeedsReachPublicAddressesOnly(t *testing.T) {
	inside := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "<rss></rss>")
	}))
	defer inside.Close()
	redirect := httptest.NewServer(http.RedirectHandler(inside.URL+"/rss", http.StatusFound))
	defer redirect.Close()

	strict := articles.FeedClient(false)
	for _, url := range []string{inside.URL + "/rss", redirect.URL + "/redir", "http://169.254.169.254/latest/meta-data/",
		"http://10.0.0.1/feed", "http://[::1]:1/feed", "http://[fd00:ec2::254]/feed", "http://0.0.0.0:1/"} {
		start := time.Now()
		resp, err := strict.Get(url)
		if err == nil {
			resp.Body.Close()
			t.Errorf("GET %s = %d, want refused", url, resp.StatusCode)
			continue
		}
		if !strings.Contains(err.Error(), "is not public") {
			t.Errorf("GET %s: %v, want refused as not public", url, err)
		}
		if time.Since(start) > 2*time.Second {
			t.Errorf("refusing %s took %s: it must not wait for a connection", url, time.Since(start))
		}
	}
	// A redirect from an allowed server to an inside address is refused
	// when it is followed: the check is at every dial.
	hop := articles.FeedClient(false)
	hop.Transport = allowFirstDial(hop.Transport)
	if resp, err := hop.Get(redirect.URL + "/redir"); err == nil {
		resp.Body.Close()
		t.Errorf("the redirect to %s was followed", inside.URL)
	}

	resp, err := articles.FeedClient(true).Get(redirect.URL + "/redir")
	if err != nil {
		t.Fatalf("with private addresses allowed: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("with private addresses allowed = %d, want 200", resp.StatusCode)
	}

	for addr, public := range map[string]bool{"93.184.216.34": true, "2606:2800:220:1::1": true, "127.0.0.1": false,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "169.254.169.254": false, "100.64.0.1": false,
		"::1": false, "fe80::1": false, "fc00::1": false, "::ffff:127.0.0.1": false, "0.0.0.0": false, "224.0.0.1": false,
		"64:ff9b::a00:1": false} {
		if got := articles.PublicAddr(netip.MustParseAddr(addr)); got != public {
			t.Errorf("PublicAddr(%s) = %v, want %v", addr, got, public)
		}
	}
}

// allowFirstDial lets the first request of a client through a permissive
// transport (standing in for a public feed server) and sends the rest,
// the redirect among them, through t.
func allowFirstDial(t http.RoundTripper) http.RoundTripper {
	first := true
	permissive := articles.FeedClient(true).Transport
	return roundTripper(func(r *http.Request) (*http.Response, error) {
		if first {
			first = false
			return permissive.RoundTrip(r)
		}
		return t.RoundTrip(r)
	})
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
