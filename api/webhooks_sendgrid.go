package api

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"strings"

	"github.com/gin-gonic/gin"

	"newsletter/subscribers"
)

// Headers of SendGrid's signed event webhook.
const (
	sendgridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	sendgridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// sendgridHandler serves POST /v1/webhooks/sendgrid: SendGrid's signed
// event webhook, a JSON array of events, signed with ECDSA (P-256, SHA-256)
// over the timestamp header followed by the raw body.
type sendgridHandler struct {
	s   *Server
	key *ecdsa.PublicKey // nil: off
}

// sendgridEvent is the part of a SendGrid event that matters here.
type sendgridEvent struct {
	Email      string `json:"email"`
	Event      string `json:"event"`  // bounce, dropped, spamreport, deferred, delivered ...
	Type       string `json:"type"`   // of a bounce: bounce or blocked
	Reason     string `json:"reason"` // of a bounce or a drop
	Status     string `json:"status"`
	Response   string `json:"response"`
	Newsletter any    `json:"newsletter"` // a custom argument, when the message carries one
}

// ParseSendGridKey reads the verification key of SendGrid's signed event
// webhook as SendGrid shows it: base64 DER (PKIX) of a P-256 public key.
// A PEM block of the same is taken too.
func ParseSendGridKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	var der []byte
	if b, _ := pem.Decode([]byte(s)); b != nil {
		der = b.Bytes
	} else {
		var err error
		if der, err = base64.StdEncoding.DecodeString(s); err != nil {
			return nil, errors.New("not base64 (copy the verification key SendGrid shows)")
		}
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, errors.New("not a public key in DER (PKIX) form")
	}
	key, ok := pub.(*ecdsa.PublicKey)
	if !ok || key.Curve != elliptic.P256() {
		return nil, errors.New("not an ECDSA P-256 public key")
	}
	return key, nil
}

func (h *sendgridHandler) handle(c *gin.Context) {
	if h.key == nil {
		h.s.handleNotFound(c)
		return
	}
	data, err := readWebhookJSON(c)
	if err != nil {
		h.s.fail(c, err)
		return
	}
	if why, err := h.verify(c, data); err != nil {
		h.s.refuse(c, "sendgrid", err, why)
		return
	}
	var events []sendgridEvent
	if err := decodeWebhook(data, &events); err != nil {
		h.s.fail(c, err)
		return
	}
	reports, ignored := sendgridReports(events)
	h.s.answerReports(c, reports, ignored)
}

// verify checks the request's signature over its timestamp and body; it
// returns why it refuses, for the log, and the error to answer.
func (h *sendgridHandler) verify(c *gin.Context, body []byte) (string, error) {
	sig64, ts := c.GetHeader(sendgridSignatureHeader), c.GetHeader(sendgridTimestampHeader)
	if sig64 == "" || ts == "" {
		return "no signature", errNoSignature
	}
	sig, err := base64.StdEncoding.DecodeString(sig64)
	if err != nil {
		return "signature not base64", errBadSignature
	}
	hash := sha256.New()
	hash.Write([]byte(ts))
	hash.Write(body)
	if !ecdsa.VerifyASN1(h.key, hash.Sum(nil), sig) {
		return "bad signature", errBadSignature
	}
	return "", nil
}

// sendgridReports returns the reports that events make, and how many of
// them made none. A deferral is not reported: SendGrid retries the message
// (for up to 72 hours) and reports a bounce or a drop when it gives up.
func sendgridReports(events []sendgridEvent) ([]subscribers.Report, int) {
	var reports []subscribers.Report
	ignored := 0
	for _, ev := range events {
		typ := sendgridType(ev)
		if typ == "" {
			ignored++
			continue
		}
		nl, _ := ev.Newsletter.(string)
		reports = append(reports, subscribers.Report{Email: ev.Email, Type: typ, Reason: sendgridReason(ev),
			Newsletter: validNewsletter(nl), Channel: "sendgrid"})
	}
	return reports, ignored
}

// sendgridType is our type of bounce for an event, "" for none.
func sendgridType(ev sendgridEvent) string {
	switch {
	case ev.Event == "bounce" && ev.Type == "blocked":
		return subscribers.BounceSoft
	case ev.Event == "bounce":
		return subscribers.BounceHard
	case ev.Event == "dropped" && strings.Contains(ev.Reason, "Bounced Address"):
		return subscribers.BounceHard
	case ev.Event == "dropped" && strings.Contains(ev.Reason, "Spam Reporting Address"):
		return subscribers.BounceComplaint
	case ev.Event == "spamreport":
		return subscribers.BounceComplaint
	}
	return ""
}

// sendgridReason is the event's own words about it.
func sendgridReason(ev sendgridEvent) string {
	for _, r := range []string{ev.Reason, ev.Response, ev.Status} {
		if r != "" {
			return r
		}
	}
	return "SendGrid: " + ev.Event
}
