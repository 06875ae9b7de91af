package api_test

import (
	"io"
	"net/http"
	"testing"

	"github.com/redis/go-redis/v9"

	"newsletter/api"
)

// TestSignupUnavailableWithoutReplicas: with NEWSLETTER_REDIS_MIN_REPLICAS
// above the replicas there are, a signup answers 503 unavailable, a code
// that says trying again is safe.
func TestSignupUnavailableWithoutReplicas(t *testing.T) {
	e, _ := newEnvWith(t, io.Discard, func(cfg *api.Config, _ *redis.Client) {
		cfg.Subscribers.Store.MinReplicas = 1
	})
	e.putNewsletter("daily", "Daily Brief")
	r := e.postJSON(`{"email":"reader@example.org","newsletters":["daily"]}`)
	wantJSONError(t, r, http.StatusServiceUnavailable, "unavailable")
}
