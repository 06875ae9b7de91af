package api_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// TestPutNewsletterPostalAddress: a newsletter keeps the postal_address it
// is given, trimmed, and refuses one of more than 500 characters or two
// lines, naming the field.
func TestPutNewsletterPostalAddress(t *testing.T) {
	e := newEnv(t)
	r := e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily","postal_address":"  News Ltd, 1 Main Street, Kyiv  "}`)
	var n struct {
		PostalAddress string `json:"postal_address"`
	}
	if r.Status != http.StatusCreated || json.Unmarshal([]byte(r.Body), &n) != nil || n.PostalAddress != "News Ltd, 1 Main Street, Kyiv" {
		t.Fatalf("PUT = %d %s, want 201 with the postal address trimmed", r.Status, r.Body)
	}
	for _, bad := range []string{strings.Repeat("a", 501), `News Ltd\nKyiv`} {
		got := wantJSONError(t, e.editor("PUT", "/v1/newsletters/daily", `{"name":"Daily","postal_address":"`+bad+`"}`), 422, "invalid_newsletter")
		if got.Field != "postal_address" {
			t.Errorf("postal_address %.20q: field = %q, want postal_address", bad, got.Field)
		}
	}
}
