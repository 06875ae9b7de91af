package api

import (
	"testing"

	"newsletter"
)

// TestEveryCodeHasAStatus keeps the one status table whole: a code added to
// the domain without a status here would answer 500.
func TestEveryCodeHasAStatus(t *testing.T) {
	for _, code := range newsletter.Codes {
		if _, ok := statusOf[code]; !ok {
			t.Errorf("statusOf has no status for %q", code)
		}
	}
	if len(statusOf) != len(newsletter.Codes) {
		t.Errorf("statusOf maps %d codes, newsletter.Codes lists %d", len(statusOf), len(newsletter.Codes))
	}
}
