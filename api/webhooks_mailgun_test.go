package api_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"newsletter/api"
)

// mailgunKey is the signing key the Mailgun webhook is configured with.
const mailgunKey = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"

// mailgunNow is the clock of the Mailgun tests.
var mailgunNow = time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)

// mailgunSample is a Mailgun sample payload about addr, signed with key at
// ts with token.
func mailgunSample(t *testing.T, file, addr, key string, ts time.Time, token string) string {
	t.Helper()
	var p map[string]any
	if err := json.Unmarshal(mustWebhookData(t, file), &p); err != nil {
		t.Fatal(err)
	}
	p["event-data"].(map[string]any)["recipient"] = addr
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(stamp + token))
	p["signature"] = map[string]any{"timestamp": stamp, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// postMailgun posts body to the Mailgun webhook.
func (e *env) postMailgun(body string) response {
	e.t.Helper()
	return e.do("POST", "/v1/webhooks/mailgun", strings.NewReader(body), "Content-Type", "application/json")
}

func newMailgunEnv(t *testing.T) *env {
	return newWebhookEnv(t, api.Webhooks{MailgunKey: mailgunKey, Now: func() time.Time { return mailgunNow }})
}

// TestMailgunWebhook: signed events apply: a permanent failure is a hard
// bounce, a complaint ends the subscription of user-variables.newsletter
// and suppresses, a temporary failure (Mailgun retries) is ignored.
func TestMailgunWebhook(t *testing.T) {
	e := newMailgunEnv(t)
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "complainer@example.org")
	for i, tc := range []struct {
		name, file, addr string
		applied, ignored int
	}{
		{"permanent failure", "mailgun_failed_permanent.json", "hard@example.org", 1, 0},
		{"temporary failure", "mailgun_failed_temporary.json", "soft@example.org", 0, 1},
		{"complaint", "mailgun_complained.json", "complainer@example.org", 1, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := mailgunSample(t, tc.file, tc.addr, mailgunKey, mailgunNow.Add(-time.Minute), "token-"+strconv.Itoa(i))
			wantApplied(t, e.postMailgun(body), tc.applied, tc.ignored)
		})
	}
	want := map[string]string{"hard@example.org": "bounce", "complainer@example.org": "complaint"}
	if got := e.suppressionSources(); !maps.Equal(got, want) {
		t.Errorf("suppressed %v, want %v", got, want)
	}
	if got := e.statuses("complainer@example.org")["daily"]; got != "unsubscribed" {
		t.Errorf("the complainer's subscription is %q, want unsubscribed", got)
	}
}

// TestMailgunWebhookRefused: a missing signature answers 401; a wrong
// one, one of another key, a stale or future timestamp and a token used
// already answer 403; nothing is applied but the first good request.
// (Mailgun signs the timestamp and token only, not the body: the token
// check is what keeps a seen signature from carrying another body.)
func TestMailgunWebhookRefused(t *testing.T) {
	e := newMailgunEnv(t)
	good := mailgunSample(t, "mailgun_failed_permanent.json", "first@example.org", mailgunKey, mailgunNow, "used-token")
	wantApplied(t, e.postMailgun(good), 1, 0)
	unsigned := strings.Replace(string(mustWebhookData(t, "mailgun_failed_permanent.json")), `"signature": {`, `"unsigned": {`, 1)
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"no signature", unsigned, http.StatusUnauthorized, "unauthorized"},
		{"documented sample", string(mustWebhookData(t, "mailgun_failed_permanent.json")), http.StatusForbidden, "forbidden"},
		{"other key", mailgunSample(t, "mailgun_failed_permanent.json", "x@example.org", "another-key", mailgunNow, "t2"), http.StatusForbidden, "forbidden"},
		{"stale", mailgunSample(t, "mailgun_failed_permanent.json", "x@example.org", mailgunKey, mailgunNow.Add(-6*time.Minute), "t3"), http.StatusForbidden, "forbidden"},
		{"future", mailgunSample(t, "mailgun_failed_permanent.json", "x@example.org", mailgunKey, mailgunNow.Add(6*time.Minute), "t4"), http.StatusForbidden, "forbidden"},
		{"token used", mailgunSample(t, "mailgun_failed_permanent.json", "x@example.org", mailgunKey, mailgunNow, "used-token"), http.StatusForbidden, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantJSONError(t, e.postMailgun(tc.body), tc.status, tc.code)
		})
	}
	want := map[string]string{"first@example.org": "bounce"}
	if got := e.suppressionSources(); !maps.Equal(got, want) {
		t.Errorf("suppressed %v, want %v", got, want)
	}
}
