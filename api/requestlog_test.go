package api_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
)

// TestRequestLinesNameRoutesNotPaths: after an address is looked up, its
// confirmation page opened and the address erased, the request lines name
// the routes (/v1/subscribers/:email), and neither the address nor the
// token is anywhere in the log (issue 17, item 10).
func TestRequestLinesNameRoutesNotPaths(t *testing.T) {
	var logs syncBuffer
	e, _ := newEnvWith(t, &logs, func(*api.Config, *redis.Client) {})
	e.putNewsletter("daily", "Daily")
	e.postJSON(`{"email":"erased.reader@example.org","newsletters":["daily"]}`)
	const token = "c2VjcmV0LXRva2VuLXRoYXQtbXVzdC1ub3QtYmUtbG9nZ2Vk"
	e.do("GET", "/confirm?token="+token, nil, "Accept", "text/html")
	e.do("GET", "/unsubscribe/"+token, nil)
	e.editor("GET", "/v1/subscribers/erased.reader@example.org", "")
	if r := e.editor("DELETE", "/v1/subscribers/erased.reader@example.org", ""); r.Status != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", r.Status, r.Body)
	}
	e.do("GET", "/no/such/erased.reader@example.org", nil)

	out := logs.String()
	for _, secret := range []string{"erased.reader", token} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds %q:\n%s", secret, out)
		}
	}
	for _, want := range []string{"route=/v1/subscribers/:email", "route=/confirm", "route=(none)"} {
		if !strings.Contains(out, want) {
			t.Errorf("the log has no %q:\n%s", want, out)
		}
	}
}
