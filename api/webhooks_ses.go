package api

import (
	"context"
	"crypto"
	"crypto/rsa"
	_ "crypto/sha1" // SNS SignatureVersion 1
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/subscribers"
)

// SESWebhook configures POST /v1/webhooks/ses, which takes Amazon SES
// bounce and complaint notifications delivered by Amazon SNS over HTTPS.
type SESWebhook struct {
	// Topics are the ARNs of the SNS topics whose messages are taken;
	// a message of any other topic is refused, subscription confirmations
	// included. SNS signs every topic's messages alike, so this list is
	// what tells our topics from anybody else's.
	Topics []string
	// CertHost reports whether signing certificates and subscription
	// confirmations may be fetched from host (the host[:port] of an https
	// URL); nil: sns.REGION.amazonaws.com (or .amazonaws.com.cn) only.
	CertHost func(host string) bool
	// Client fetches certificates and confirms subscriptions, never
	// following redirects; nil: a client with a 10 s timeout.
	Client *http.Client
}

// sesHandler serves POST /v1/webhooks/ses.
type sesHandler struct {
	s      *Server
	cfg    *SESWebhook // nil: off
	client *http.Client
	certs  *certCache
}

// snsMessage is an SNS HTTP(S) message: a notification or a subscription
// (un)confirmation.
type snsMessage struct {
	Type             string  `json:"Type"`
	MessageID        string  `json:"MessageId"`
	Token            string  `json:"Token"`
	TopicArn         string  `json:"TopicArn"`
	Subject          *string `json:"Subject"` // signed only when present
	Message          string  `json:"Message"`
	SubscribeURL     string  `json:"SubscribeURL"`
	Timestamp        string  `json:"Timestamp"`
	SignatureVersion string  `json:"SignatureVersion"`
	Signature        string  `json:"Signature"`
	SigningCertURL   string  `json:"SigningCertURL"`
}

// SNS message types.
const (
	snsNotification = "Notification"
	snsSubscribe    = "SubscriptionConfirmation"
	snsUnsubscribe  = "UnsubscribeConfirmation"
)

var (
	errSNSUnreachable = newsletter.Errorf(newsletter.EUNAVAILABLE, "Amazon SNS could not be reached; try again later.")
	errSNSTopic       = newsletter.Errorf(newsletter.EFORBIDDEN, "This service takes no messages of this SNS topic.")
	errSNSURL         = newsletter.Errorf(newsletter.EFORBIDDEN, "The URL is not an https URL of Amazon SNS.")
)

func newSESHandler(s *Server, cfg *SESWebhook) *sesHandler {
	h := &sesHandler{s: s, cfg: cfg, certs: newCertCache()}
	if cfg != nil {
		h.client = noRedirects(cfg.Client)
	}
	return h
}

func (h *sesHandler) handle(c *gin.Context) {
	if h.cfg == nil {
		h.s.handleNotFound(c)
		return
	}
	data, err := readWebhookBody(c) // SNS sends JSON as text/plain
	if err != nil {
		h.s.fail(c, err)
		return
	}
	var m snsMessage
	if err := decodeWebhook(data, &m); err != nil {
		h.s.fail(c, err)
		return
	}
	if why, err := h.verify(c, &m); err != nil {
		h.s.refuse(c, "ses", err, why)
		return
	}
	switch m.Type {
	case snsSubscribe:
		h.confirm(c, &m)
	case snsUnsubscribe:
		c.JSON(http.StatusOK, webhookResult{Ignored: 1})
	default:
		reports, ignored := sesReports(m.Message)
		h.s.answerReports(c, reports, ignored)
	}
}

// verify checks that m comes from one of our topics and carries a valid
// SNS signature; it returns why it refuses, for the log, and the error to
// answer.
func (h *sesHandler) verify(c *gin.Context, m *snsMessage) (string, error) {
	if m.Signature == "" || m.SigningCertURL == "" {
		return "no signature", errNoSignature
	}
	if !slices.Contains(h.cfg.Topics, m.TopicArn) {
		return "topic not allowed", errSNSTopic
	}
	canonical, ok := m.canonical()
	hash, known := snsHashes[m.SignatureVersion]
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if !ok || !known || err != nil {
		return "unknown message type or signature version", errBadSignature
	}
	key, why, err := h.certs.key(c.Request.Context(), h.client, h.hostAllowed, m.SigningCertURL)
	if err != nil {
		return why, err
	}
	d := hash.New()
	d.Write([]byte(canonical))
	if rsa.VerifyPKCS1v15(key, hash, d.Sum(nil), sig) != nil {
		return "bad signature", errBadSignature
	}
	return "", nil
}

// snsHashes are the hashes of SNS's signature versions: 1 is
// SHA1withRSA, 2 SHA256withRSA.
var snsHashes = map[string]crypto.Hash{"1": crypto.SHA1, "2": crypto.SHA256}

// canonical returns the string SNS signs for m: the names and values of
// the type's fields in byte order, each on a line of its own.
func (m *snsMessage) canonical() (string, bool) {
	var fields []string
	switch m.Type {
	case snsNotification:
		fields = []string{"Message", m.Message, "MessageId", m.MessageID}
		if m.Subject != nil {
			fields = append(fields, "Subject", *m.Subject)
		}
		fields = append(fields, "Timestamp", m.Timestamp, "TopicArn", m.TopicArn, "Type", m.Type)
	case snsSubscribe, snsUnsubscribe:
		fields = []string{"Message", m.Message, "MessageId", m.MessageID, "SubscribeURL", m.SubscribeURL,
			"Timestamp", m.Timestamp, "Token", m.Token, "TopicArn", m.TopicArn, "Type", m.Type}
	default:
		return "", false
	}
	var b strings.Builder
	for _, f := range fields {
		b.WriteString(f)
		b.WriteByte('\n')
	}
	return b.String(), true
}

// hostAllowed reports whether host may serve SNS certificates and
// subscription confirmations.
func (h *sesHandler) hostAllowed(host string) bool {
	if h.cfg.CertHost != nil {
		return h.cfg.CertHost(host)
	}
	return snsHost(host)
}

// snsHost reports whether host is an SNS endpoint: sns.REGION.amazonaws.com
// or sns.REGION.amazonaws.com.cn, on the default port.
func snsHost(host string) bool {
	rest, ok := strings.CutPrefix(host, "sns.")
	if !ok {
		return false
	}
	region, ok := strings.CutSuffix(rest, ".amazonaws.com")
	if !ok {
		region, ok = strings.CutSuffix(rest, ".amazonaws.com.cn")
	}
	return ok && region != "" && strings.Trim(region, "abcdefghijklmnopqrstuvwxyz0123456789-") == ""
}

// confirm confirms the subscription of one of our topics by fetching its
// SubscribeURL, as SNS asks.
func (h *sesHandler) confirm(c *gin.Context, m *snsMessage) {
	if _, ok := allowedURL(m.SubscribeURL, h.hostAllowed); !ok {
		h.s.refuse(c, "ses", errSNSURL, "subscribe URL not allowed")
		return
	}
	res, err := fetch(c.Request.Context(), h.client, m.SubscribeURL, 64<<10)
	if err != nil || res.status != http.StatusOK {
		h.s.logger(c).Warn("Unable to confirm the SNS subscription", "topic", m.TopicArn, "error", err, "status", res.status)
		h.s.fail(c, errSNSUnreachable)
		return
	}
	h.s.logger(c).Info("SNS subscription confirmed", "topic", m.TopicArn)
	c.JSON(http.StatusOK, webhookResult{Confirmed: true})
}

// sesNotification is the part of an SES notification (the SNS Message)
// that matters here. Event publishing names its type eventType.
type sesNotification struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           struct {
		BounceType        string `json:"bounceType"` // Permanent, Transient or Undetermined
		BounceSubType     string `json:"bounceSubType"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint struct {
		ComplainedRecipients []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
	} `json:"complaint"`
	Mail struct {
		Headers []struct {
			Name  string `json:"name"`
			Value string `json:"value"`
		} `json:"headers"`
	} `json:"mail"`
}

// sesReports returns the reports of an SES notification, and how many
// parts of it made none: a notification other than a bounce or a
// complaint (a delivery, SES's own test message) is ignored whole.
func sesReports(message string) ([]subscribers.Report, int) {
	var n sesNotification
	if err := json.Unmarshal([]byte(message), &n); err != nil {
		return nil, 1
	}
	nl := n.newsletter()
	switch n.kind() {
	case "Bounce":
		return n.bounceReports(nl), 0
	case "Complaint":
		return n.complaintReports(nl), 0
	}
	return nil, 1
}

// kind is the notification's type: Bounce, Complaint, Delivery ...
func (n *sesNotification) kind() string {
	if n.NotificationType != "" {
		return n.NotificationType
	}
	return n.EventType
}

// newsletter is the newsletter named by the message's List-Id header,
// when SES was told to include the headers; "" otherwise.
func (n *sesNotification) newsletter() string {
	for _, h := range n.Mail.Headers {
		if strings.EqualFold(h.Name, "List-Id") {
			return newsletterFromListID(h.Value)
		}
	}
	return ""
}

// bounceReports reports each bounced recipient: a Permanent bounce is
// hard; a Transient or Undetermined one, which SES reports once it has
// given up retrying, is soft.
func (n *sesNotification) bounceReports(nl string) []subscribers.Report {
	typ := subscribers.BounceSoft
	if n.Bounce.BounceType == "Permanent" {
		typ = subscribers.BounceHard
	}
	var reports []subscribers.Report
	for _, r := range n.Bounce.BouncedRecipients {
		reason := r.DiagnosticCode
		if reason == "" {
			reason = strings.TrimSpace("SES: " + n.Bounce.BounceType + " " + n.Bounce.BounceSubType + " " + r.Status)
		}
		reports = append(reports, subscribers.Report{Email: r.EmailAddress, Type: typ, Reason: reason,
			Newsletter: nl, Channel: "ses"})
	}
	return reports
}

// complaintReports reports each complaining recipient.
func (n *sesNotification) complaintReports(nl string) []subscribers.Report {
	reason := "SES: complaint"
	if t := n.Complaint.ComplaintFeedbackType; t != "" {
		reason += " (" + t + ")"
	}
	var reports []subscribers.Report
	for _, r := range n.Complaint.ComplainedRecipients {
		reports = append(reports, subscribers.Report{Email: r.EmailAddress, Type: subscribers.BounceComplaint,
			Reason: reason, Newsletter: nl, Channel: "ses"})
	}
	return reports
}

// certCache keeps the public keys of SNS signing certificates by URL: SNS
// signs with one certificate for long stretches.
type certCache struct {
	mu   sync.Mutex
	keys map[string]*rsa.PublicKey
}

// maxCerts bounds the cache; a full cache starts over.
const maxCerts = 32

func newCertCache() *certCache { return &certCache{keys: map[string]*rsa.PublicKey{}} }

// key returns the public key of the certificate at rawURL, fetched with
// client when it is not cached and the URL is https on a host that
// hostOK allows; on failure, why says what went wrong, for the log.
func (cc *certCache) key(ctx context.Context, client *http.Client, hostOK func(string) bool, rawURL string) (*rsa.PublicKey, string, error) {
	if _, ok := allowedURL(rawURL, hostOK); !ok {
		return nil, "certificate URL not allowed", errSNSURL
	}
	cc.mu.Lock()
	key := cc.keys[rawURL]
	cc.mu.Unlock()
	if key != nil {
		return key, "", nil
	}
	res, err := fetch(ctx, client, rawURL, 64<<10)
	if err != nil {
		return nil, "certificate unreachable: " + err.Error(), errSNSUnreachable
	}
	if key = rsaKeyOf(res); key == nil {
		return nil, "no RSA certificate at the certificate URL", errBadSignature
	}
	cc.mu.Lock()
	defer cc.mu.Unlock()
	if len(cc.keys) >= maxCerts {
		clear(cc.keys)
	}
	cc.keys[rawURL] = key
	return key, "", nil
}

// rsaKeyOf returns the RSA public key of the PEM certificate res holds, or
// nil.
func rsaKeyOf(res fetched) *rsa.PublicKey {
	block, _ := pem.Decode(res.body)
	if res.status != http.StatusOK || block == nil || block.Type != "CERTIFICATE" {
		return nil
	}
	cert, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil
	}
	key, _ := cert.PublicKey.(*rsa.PublicKey)
	return key
}

// allowedURL parses raw and reports whether it is an https URL, without
// user info, on a host that hostOK allows.
func allowedURL(raw string, hostOK func(string) bool) (*url.URL, bool) {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Host == "" {
		return nil, false
	}
	return u, hostOK(u.Host)
}

// fetched is the answer to a GET.
type fetched struct {
	status int
	body   []byte
}

// fetch GETs rawURL with client and reads at most max bytes of the body.
func fetch(ctx context.Context, client *http.Client, rawURL string, max int64) (fetched, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return fetched{}, err
	}
	res, err := client.Do(req)
	if err != nil {
		return fetched{}, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, max))
	return fetched{status: res.StatusCode, body: body}, err
}

// noRedirects returns a copy of client (or of a client with a 10 s
// timeout, when nil) that does not follow redirects: a redirect could
// lead off the allowed hosts.
func noRedirects(client *http.Client) *http.Client {
	c := http.Client{Timeout: 10 * time.Second}
	if client != nil {
		c = *client
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}
