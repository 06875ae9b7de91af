package api_test

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"maps"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"newsletter/api"
)

// sesTopic is the topic the SES webhook of the tests takes.
const sesTopic = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"

// snsServer stands in for SNS's https endpoints: it serves the signing
// certificate and takes subscription confirmations, counting both.
type snsServer struct {
	srv  *httptest.Server
	key  *rsa.PrivateKey
	mu   sync.Mutex
	hits map[string]int // path: requests
}

// mustSNSServer starts an https server holding a self-signed signing
// certificate of a new RSA key.
func mustSNSServer(t *testing.T) *snsServer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s := &snsServer{key: key, hits: map[string]int{}}
	s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.hits[r.URL.Path]++
		s.mu.Unlock()
		switch r.URL.Path {
		case "/SimpleNotificationService-test.pem":
			w.Write(certPEM)
		case "/confirm":
			w.Write([]byte("<ConfirmSubscriptionResponse/>"))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(s.srv.Close)
	return s
}

// count returns how many requests path got.
func (s *snsServer) count(path string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.hits[path]
}

// certURL is where the server serves its certificate.
func (s *snsServer) certURL() string { return s.srv.URL + "/SimpleNotificationService-test.pem" }

// webhook is the SES webhook configuration that trusts this server: its
// host passes the certificate host check only because the test says so.
func (s *snsServer) webhook() *api.SESWebhook {
	host := strings.TrimPrefix(s.srv.URL, "https://")
	return &api.SESWebhook{Topics: []string{sesTopic}, CertHost: func(h string) bool { return h == host },
		Client: s.srv.Client()}
}

// snsMessage is an SNS sample envelope (file) with these fields set.
func snsMessage(t *testing.T, file string, set map[string]any) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustWebhookData(t, file), &m); err != nil {
		t.Fatal(err)
	}
	maps.Copy(m, set)
	for k, v := range m {
		if v == nil {
			delete(m, k)
		}
	}
	return m
}

// snsCanonical is the string SNS signs: the type's signed fields that the
// message holds, in byte order, each name and value on a line.
func snsCanonical(m map[string]any) string {
	fields := []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	if m["Type"] == "Notification" {
		fields = []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	}
	var b strings.Builder
	for _, f := range fields {
		if v, ok := m[f].(string); ok {
			b.WriteString(f + "\n" + v + "\n")
		}
	}
	return b.String()
}

// signSNS signs m with key in SignatureVersion version (1: SHA1, 2: SHA256).
func signSNS(t *testing.T, key *rsa.PrivateKey, version string, m map[string]any) {
	t.Helper()
	m["SignatureVersion"] = version
	hash, sum := crypto.SHA256, sha256.Sum256([]byte(snsCanonical(m)))
	digest := sum[:]
	if version == "1" {
		s1 := sha1.Sum([]byte(snsCanonical(m)))
		hash, digest = crypto.SHA1, s1[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, hash, digest)
	if err != nil {
		t.Fatal(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
}

// sesNotification is an SNS notification of our topic carrying the SES
// sample notification file, signed with version by the test server's key.
func (s *snsServer) sesNotification(t *testing.T, file, version string) map[string]any {
	t.Helper()
	m := snsMessage(t, "sns_notification.json", map[string]any{"Message": string(mustWebhookData(t, file)),
		"TopicArn": sesTopic, "SigningCertURL": s.certURL()})
	if version == "2" {
		delete(m, "Subject") // SES notifications carry none
	}
	signSNS(t, s.key, version, m)
	return m
}

// postSNS posts m as SNS does: JSON sent as text/plain.
func (e *env) postSNS(m map[string]any) response {
	e.t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		e.t.Fatal(err)
	}
	return e.do("POST", "/v1/webhooks/ses", strings.NewReader(string(b)),
		"Content-Type", "text/plain; charset=UTF-8", "X-Amz-Sns-Message-Type", m["Type"].(string))
}

// TestSESWebhook: signed notifications of our topic apply AWS's sample
// bounces and complaints (SignatureVersion 1 and 2): a Permanent bounce
// suppresses, a Transient one is counted, a complaint ends the
// subscription named by List-Id and suppresses; other notifications are
// ignored; the certificate is fetched once.
func TestSESWebhook(t *testing.T) {
	sns := mustSNSServer(t)
	e := newWebhookEnv(t, api.Webhooks{SES: sns.webhook()})
	e.putNewsletter("daily", "Daily Brief")
	e.importConfirmed("daily", "richard@example.com")
	for _, tc := range []struct {
		name, file, version string
		applied, ignored    int
	}{
		{"permanent bounce", "ses_bounce_permanent.json", "1", 1, 0},
		{"transient bounce", "ses_bounce_transient.json", "2", 1, 0},
		{"complaint", "ses_complaint.json", "2", 1, 0},
		{"delivery", "ses_delivery.json", "1", 0, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantApplied(t, e.postSNS(sns.sesNotification(t, tc.file, tc.version)), tc.applied, tc.ignored)
		})
	}
	text := snsMessage(t, "sns_notification.json", map[string]any{"TopicArn": sesTopic, "SigningCertURL": sns.certURL(),
		"Message": "Successfully validated SNS topic for Amazon SES event publishing."})
	signSNS(t, sns.key, "2", text)
	wantApplied(t, e.postSNS(text), 0, 1)

	want := map[string]string{"jane@example.com": "bounce", "richard@example.com": "complaint"}
	if got := e.suppressionSources(); !maps.Equal(got, want) {
		t.Errorf("suppressed %v, want %v", got, want)
	}
	if got := e.statuses("richard@example.com")["daily"]; got != "unsubscribed" {
		t.Errorf("the complainer's subscription is %q, want unsubscribed", got)
	}
	if n := sns.count("/SimpleNotificationService-test.pem"); n != 1 {
		t.Errorf("the certificate was fetched %d times, want once", n)
	}
}

// TestSESSubscriptionConfirmation: a signed confirmation of our topic is
// confirmed by fetching its SubscribeURL; one of another topic, or whose
// SubscribeURL is on a host not allowed, is refused and fetches nothing.
func TestSESSubscriptionConfirmation(t *testing.T) {
	sns := mustSNSServer(t)
	e := newWebhookEnv(t, api.Webhooks{SES: sns.webhook()})
	confirmation := func(topic, subscribeURL string) map[string]any {
		m := snsMessage(t, "sns_subscription_confirmation.json", map[string]any{"TopicArn": topic,
			"SigningCertURL": sns.certURL(), "SubscribeURL": subscribeURL})
		signSNS(t, sns.key, "1", m)
		return m
	}
	confirmURL := sns.srv.URL + "/confirm?Action=ConfirmSubscription&Token=2336412f"

	r := e.postSNS(confirmation(sesTopic, confirmURL))
	if r.Status != http.StatusOK || !strings.Contains(r.Body, `"confirmed":true`) {
		t.Fatalf("confirmation: %d %s, want 200 confirmed", r.Status, r.Body)
	}
	wantJSONError(t, e.postSNS(confirmation("arn:aws:sns:eu-west-1:999999999999:theirs", confirmURL)), http.StatusForbidden, "forbidden")
	wantJSONError(t, e.postSNS(confirmation(sesTopic, "https://example.org/confirm")), http.StatusForbidden, "forbidden")
	wantJSONError(t, e.postSNS(confirmation(sesTopic, strings.Replace(confirmURL, "https:", "http:", 1))), http.StatusForbidden, "forbidden")
	if n := sns.count("/confirm"); n != 1 {
		t.Errorf("SubscribeURL fetched %d times, want once", n)
	}
}

// TestSESWebhookRefused: a message without a signature answers 401; one
// signed by another key, changed after signing, of another topic, of an
// unknown signature version or with its certificate elsewhere than an
// allowed https host answers 403; nothing is applied.
func TestSESWebhookRefused(t *testing.T) {
	sns, other := mustSNSServer(t), mustSNSServer(t)
	e := newWebhookEnv(t, api.Webhooks{SES: sns.webhook()})
	resign := func(m map[string]any, set map[string]any) map[string]any {
		maps.Copy(m, set)
		signSNS(t, sns.key, "2", m)
		return m
	}
	bounce := func() map[string]any { return sns.sesNotification(t, "ses_bounce_permanent.json", "2") }
	tampered := bounce()
	tampered["Message"] = strings.Replace(tampered["Message"].(string), "jane@example.com", "john@example.com", 1)
	unsigned := bounce()
	delete(unsigned, "Signature")
	version := bounce()
	version["SignatureVersion"] = "3"
	otherKey := bounce()
	signSNS(t, other.key, "2", otherKey)
	for _, tc := range []struct {
		name   string
		m      map[string]any
		status int
	}{
		{"no signature", unsigned, http.StatusUnauthorized},
		{"other key", otherKey, http.StatusForbidden},
		{"tampered", tampered, http.StatusForbidden},
		{"other topic", resign(bounce(), map[string]any{"TopicArn": "arn:aws:sns:eu-west-1:999999999999:theirs"}), http.StatusForbidden},
		{"signature version 3", version, http.StatusForbidden},
		{"certificate over http", resign(bounce(), map[string]any{"SigningCertURL": strings.Replace(sns.certURL(), "https:", "http:", 1)}), http.StatusForbidden},
		{"certificate on another host", resign(bounce(), map[string]any{"SigningCertURL": other.certURL()}), http.StatusForbidden},
		{"certificate missing", resign(bounce(), map[string]any{"SigningCertURL": sns.srv.URL + "/nothing.pem"}), http.StatusForbidden},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.postSNS(tc.m)
			wantJSONError(t, r, tc.status, map[int]string{401: "unauthorized", 403: "forbidden"}[tc.status])
		})
	}
	e.wantNoSuppressions()
	if n := other.count("/SimpleNotificationService-test.pem"); n != 0 {
		t.Errorf("the certificate of a host not allowed was fetched %d times", n)
	}
}

// TestSESWebhookDefaultHosts: without a host check of the test's, only
// sns.REGION.amazonaws.com passes, so the test server's certificate is
// never fetched.
func TestSESWebhookDefaultHosts(t *testing.T) {
	sns := mustSNSServer(t)
	e := newWebhookEnv(t, api.Webhooks{SES: &api.SESWebhook{Topics: []string{sesTopic}, Client: sns.srv.Client()}})
	wantJSONError(t, e.postSNS(sns.sesNotification(t, "ses_bounce_permanent.json", "1")), http.StatusForbidden, "forbidden")
	if n := sns.count("/SimpleNotificationService-test.pem"); n != 0 {
		t.Errorf("certificate fetched %d times from a host not allowed", n)
	}
	e.wantNoSuppressions()
}
