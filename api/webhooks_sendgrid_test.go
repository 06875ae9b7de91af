package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"maps"
	"net/http"
	"strings"
	"testing"

	"newsletter/api"
)

// mustECDSAKey generates a key on curve c.
func mustECDSAKey(tb testing.TB, c elliptic.Curve) *ecdsa.PrivateKey {
	tb.Helper()
	key, err := ecdsa.GenerateKey(c, rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	return key
}

// publicKeyBase64 is pub as SendGrid shows a verification key: base64 DER.
func publicKeyBase64(tb testing.TB, pub any) string {
	tb.Helper()
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// sendgridSign signs timestamp and body as SendGrid does.
func sendgridSign(tb testing.TB, key *ecdsa.PrivateKey, timestamp, body string) string {
	tb.Helper()
	hash := sha256.Sum256([]byte(timestamp + body))
	sig, err := ecdsa.SignASN1(rand.Reader, key, hash[:])
	if err != nil {
		tb.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// postSendGrid posts body with a signature and timestamp header (none when
// "").
func (e *env) postSendGrid(body, signature, timestamp string) response {
	e.t.Helper()
	header := []string{"Content-Type", "application/json"}
	if signature != "" {
		header = append(header, "X-Twilio-Email-Event-Webhook-Signature", signature)
	}
	if timestamp != "" {
		header = append(header, "X-Twilio-Email-Event-Webhook-Timestamp", timestamp)
	}
	return e.do("POST", "/v1/webhooks/sendgrid", strings.NewReader(body), header...)
}

func newSendGridEnv(t *testing.T, key *ecdsa.PrivateKey) *env {
	t.Helper()
	pub, err := api.ParseSendGridKey(publicKeyBase64(t, &key.PublicKey))
	if err != nil {
		t.Fatalf("ParseSendGridKey: %v", err)
	}
	return newWebhookEnv(t, api.Webhooks{SendGridKey: pub})
}

// TestSendGridWebhook: a signed batch of SendGrid's sample events applies
// bounces (blocked: soft), drops of bounced addresses and spam reports,
// and ignores deferrals, deliveries, opens and addresses that are not
// valid.
func TestSendGridWebhook(t *testing.T) {
	key := mustECDSAKey(t, elliptic.P256())
	e := newSendGridEnv(t, key)
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "spamreport@example.com")
	body, ts := string(mustWebhookData(t, "sendgrid_events.json")), "1513299569"
	r := e.postSendGrid(body, sendgridSign(t, key, ts, body), ts)
	wantApplied(t, r, 4, 6)
	want := map[string]string{"bounce@example.com": "bounce", "dropped@example.com": "bounce", "spamreport@example.com": "complaint"}
	if got := e.suppressionSources(); !maps.Equal(got, want) {
		t.Errorf("suppressed %v, want %v", got, want)
	}
	if got := e.statuses("spamreport@example.com")["daily"]; got != "unsubscribed" {
		t.Errorf("the complainer's subscription is %q, want unsubscribed", got)
	}
}

// TestSendGridWebhookRefused: without a signature the answer is 401; a
// signature of another key, of another timestamp or body, or not base64
// answers 403; nothing is applied.
func TestSendGridWebhookRefused(t *testing.T) {
	key := mustECDSAKey(t, elliptic.P256())
	e := newSendGridEnv(t, key)
	body, ts := string(mustWebhookData(t, "sendgrid_events.json")), "1513299569"
	good := sendgridSign(t, key, ts, body)
	for _, tc := range []struct {
		name, body, signature, timestamp string
		status                           int
		code                             string
	}{
		{"no signature", body, "", ts, http.StatusUnauthorized, "unauthorized"},
		{"no timestamp", body, good, "", http.StatusUnauthorized, "unauthorized"},
		{"other key", body, sendgridSign(t, mustECDSAKey(t, elliptic.P256()), ts, body), ts, http.StatusForbidden, "forbidden"},
		{"other timestamp", body, good, "1513299570", http.StatusForbidden, "forbidden"},
		{"other body", strings.Replace(body, "bounce@example.com", "other@example.com", 1), good, ts, http.StatusForbidden, "forbidden"},
		{"not base64", body, "%%%", ts, http.StatusForbidden, "forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantJSONError(t, e.postSendGrid(tc.body, tc.signature, tc.timestamp), tc.status, tc.code)
		})
	}
	e.wantNoSuppressions()
}

// TestParseSendGridKey: the key is base64 DER (or PEM) of a P-256 public
// key; anything else is refused with a reason.
func TestParseSendGridKey(t *testing.T) {
	p256 := mustECDSAKey(t, elliptic.P256())
	der, _ := x509.MarshalPKIXPublicKey(&p256.PublicKey)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, key string
		ok        bool
	}{
		{"base64 DER", publicKeyBase64(t, &p256.PublicKey), true},
		{"PEM", string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})), true},
		{"P-384", publicKeyBase64(t, &mustECDSAKey(t, elliptic.P384()).PublicKey), false},
		{"RSA", publicKeyBase64(t, &rsaKey.PublicKey), false},
		{"not base64", "not a key!", false},
		{"not DER", base64.StdEncoding.EncodeToString([]byte("hello")), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := api.ParseSendGridKey(tc.key)
			if (err == nil) != tc.ok {
				t.Errorf("ParseSendGridKey: %v, want ok %v", err, tc.ok)
			}
		})
	}
}
