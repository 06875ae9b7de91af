package api

import (
	"crypto/sha256"
	"crypto/subtle"

	"github.com/gin-gonic/gin"

	"newsletter/subscribers"
)

// postmarkHandler serves POST /v1/webhooks/postmark: Postmark's bounce and
// spam complaint webhooks. Postmark signs nothing, so the webhook's URL
// carries basic auth credentials of ours (https://user:password@host/...).
type postmarkHandler struct {
	s    *Server
	auth string // "user:password"; "": off
}

// postmarkEvent is the part of a Postmark bounce or spam complaint
// webhook that matters here.
type postmarkEvent struct {
	Type        string         `json:"Type"`
	Email       string         `json:"Email"`
	Description string         `json:"Description"`
	Details     string         `json:"Details"`
	Metadata    map[string]any `json:"Metadata"`
}

// postmarkTypes maps Postmark's bounce types to ours. The others are of
// no concern: Transient is a delay that Postmark retries, AutoResponder an
// out-of-office reply, Unsubscribe and Subscribe requests by email, and so
// on.
var postmarkTypes = map[string]string{
	"HardBounce":      subscribers.BounceHard,
	"BadEmailAddress": subscribers.BounceHard,
	"SoftBounce":      subscribers.BounceSoft,
	"DnsError":        subscribers.BounceSoft,
	"Blocked":         subscribers.BounceSoft,
	"SpamComplaint":   subscribers.BounceComplaint,
}

func (h *postmarkHandler) handle(c *gin.Context) {
	if h.auth == "" {
		h.s.handleNotFound(c)
		return
	}
	if !h.authorized(c) {
		c.Header("WWW-Authenticate", `Basic realm="webhooks", charset="UTF-8"`)
		h.s.refuse(c, "postmark", errNoSignature, "wrong or missing basic auth credentials")
		return
	}
	data, err := readWebhookJSON(c)
	if err != nil {
		h.s.fail(c, err)
		return
	}
	var ev postmarkEvent
	if err := decodeWebhook(data, &ev); err != nil {
		h.s.fail(c, err)
		return
	}
	reports, ignored := postmarkReports(ev)
	h.s.answerReports(c, reports, ignored)
}

// authorized reports whether the request carries our credentials,
// compared in constant time (as hashes, so that not even their length
// shows).
func (h *postmarkHandler) authorized(c *gin.Context) bool {
	user, password, ok := c.Request.BasicAuth()
	if !ok {
		return false
	}
	got, want := sha256.Sum256([]byte(user+":"+password)), sha256.Sum256([]byte(h.auth))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}

// postmarkReports returns the report an event makes, or counts it ignored.
func postmarkReports(ev postmarkEvent) ([]subscribers.Report, int) {
	typ, ok := postmarkTypes[ev.Type]
	if !ok {
		return nil, 1
	}
	reason := ev.Details
	if reason == "" {
		reason = ev.Description
	}
	if reason == "" {
		reason = "Postmark: " + ev.Type
	}
	return []subscribers.Report{{Email: ev.Email, Type: typ, Reason: reason,
		Newsletter: metadataNewsletter(ev.Metadata), Channel: "postmark"}}, 0
}
