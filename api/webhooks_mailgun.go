package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter/subscribers"
)

// mailgunHandler serves POST /v1/webhooks/mailgun: Mailgun's event
// webhook (JSON), whose "signature" is HMAC-SHA256 of timestamp and token
// under the account's webhook signing key.
type mailgunHandler struct {
	s    *Server
	key  string // the webhook signing key; "": off
	now  func() time.Time
	seen *tokenCache // tokens used within the last minutes
}

// mailgunPayload is the part of a Mailgun webhook that matters here.
type mailgunPayload struct {
	Signature struct {
		Timestamp json.Number `json:"timestamp"` // Unix seconds, sent as a string
		Token     string      `json:"token"`
		Signature string      `json:"signature"` // hex
	} `json:"signature"`
	Event mailgunEvent `json:"event-data"`
}

// mailgunEvent is Mailgun's event-data.
type mailgunEvent struct {
	Event          string `json:"event"`    // failed, complained, delivered ...
	Severity       string `json:"severity"` // of a failure: permanent or temporary
	Reason         string `json:"reason"`   // of a failure: bounce, generic, old ...
	Recipient      string `json:"recipient"`
	DeliveryStatus struct {
		Description string `json:"description"`
		Message     string `json:"message"`
	} `json:"delivery-status"`
	UserVariables map[string]any `json:"user-variables"`
}

func (h *mailgunHandler) handle(c *gin.Context) {
	if h.key == "" {
		h.s.handleNotFound(c)
		return
	}
	data, err := readWebhookJSON(c)
	if err != nil {
		h.s.fail(c, err)
		return
	}
	var p mailgunPayload
	if err := decodeWebhook(data, &p); err != nil {
		h.s.fail(c, err)
		return
	}
	if why, err := h.verify(&p); err != nil {
		h.s.refuse(c, "mailgun", err, why)
		return
	}
	reports, ignored := mailgunReports(p.Event)
	res, err := h.s.applyReports(c, reports)
	if err != nil {
		h.seen.release(p.Signature.Token) // Mailgun sends it again
		h.s.fail(c, err)
		return
	}
	res.Ignored += ignored
	c.JSON(http.StatusOK, res)
}

// verify checks the payload's signature, its age and that its token is
// new; it returns why it refuses, for the log, and the error to answer.
func (h *mailgunHandler) verify(p *mailgunPayload) (string, error) {
	sig := p.Signature
	if sig.Timestamp == "" || sig.Token == "" || sig.Signature == "" {
		return "no signature", errNoSignature
	}
	mac := hmac.New(sha256.New, []byte(h.key))
	mac.Write([]byte(string(sig.Timestamp) + sig.Token))
	got, err := hex.DecodeString(sig.Signature)
	if err != nil || !hmac.Equal(got, mac.Sum(nil)) {
		return "bad signature", errBadSignature
	}
	now := h.now()
	sec, err := strconv.ParseInt(string(sig.Timestamp), 10, 64)
	if age := now.Sub(time.Unix(sec, 0)); err != nil || age > maxSignatureSkew || age < -maxSignatureSkew {
		return "stale timestamp", errStale
	}
	if !h.seen.claim(sig.Token, now) {
		return "token used already", errStale
	}
	return "", nil
}

// mailgunReports returns the report an event makes, or counts it ignored.
// A temporary failure is not reported: Mailgun retries the message (for up
// to 8 hours, with one such event per attempt), and when it gives up it
// sends a permanent failure with reason "old", which counts as a soft
// bounce. Every other permanent failure is a hard bounce.
func mailgunReports(ev mailgunEvent) ([]subscribers.Report, int) {
	var typ string
	switch {
	case ev.Event == "complained":
		typ = subscribers.BounceComplaint
	case ev.Event == "failed" && ev.Severity == "permanent" && ev.Reason == "old":
		typ = subscribers.BounceSoft
	case ev.Event == "failed" && ev.Severity == "permanent":
		typ = subscribers.BounceHard
	default:
		return nil, 1
	}
	return []subscribers.Report{{Email: ev.Recipient, Type: typ, Reason: mailgunReason(ev),
		Newsletter: metadataNewsletter(ev.UserVariables), Channel: "mailgun"}}, 0
}

// mailgunReason is the event's own words about it.
func mailgunReason(ev mailgunEvent) string {
	for _, r := range []string{ev.DeliveryStatus.Message, ev.DeliveryStatus.Description, ev.Reason} {
		if r != "" {
			return r
		}
	}
	return "Mailgun: " + ev.Event
}
