package api

// The email providers' webhooks: bounces and complaints that Amazon SES
// (through SNS), Postmark, Mailgun and SendGrid report after the SMTP
// transaction. Providers call them, so no editor token guards them: each
// checks its provider's own signature (or, for Postmark, our basic auth
// credentials) before it reads anything, and feeds what it finds into
// subscribers.Service.Report. A provider that is not configured has no
// webhook: its route answers 404.

import (
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/subscribers"
)

// Webhooks configures the providers' webhooks; the zero value turns every
// one of them off.
type Webhooks struct {
	// SES takes Amazon SES notifications through SNS; nil: off.
	SES *SESWebhook
	// PostmarkAuth is the "user:password" that Postmark must send as HTTP
	// basic auth; "": off.
	PostmarkAuth string
	// MailgunKey is Mailgun's HTTP webhook signing key; "": off.
	MailgunKey string
	// SendGridKey is the public key of SendGrid's signed event webhook;
	// nil: off.
	SendGridKey *ecdsa.PublicKey
	// Now is the clock that signature timestamps are judged by; nil:
	// time.Now.
	Now func() time.Time
}

// Limits of the webhooks.
const (
	maxWebhookBody   = 1 << 20         // a provider's request body, at most
	maxSignatureSkew = 5 * time.Minute // how far a signed timestamp may be from now
)

var (
	errNoSignature  = newsletter.Errorf(newsletter.EUNAUTHORIZED, "This webhook needs the provider's signature.")
	errBadSignature = newsletter.Errorf(newsletter.EFORBIDDEN, "The signature of this request is not valid.")
	errStale        = newsletter.Errorf(newsletter.EFORBIDDEN, "The signature of this request is too old, or was used already.")
)

// webhookResult is the answer to a webhook: how many reports were applied
// and how many were left alone (events of no concern, deferrals, addresses
// that are not valid).
type webhookResult struct {
	Applied   int  `json:"applied"`
	Ignored   int  `json:"ignored"`
	Confirmed bool `json:"confirmed,omitempty"` // an SNS subscription was confirmed
}

// webhookRoutes registers the providers' webhooks.
func (s *Server) webhookRoutes() {
	cfg := s.cfg.Webhooks
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	e := s.engine
	e.POST("/v1/webhooks/ses", newSESHandler(s, cfg.SES).handle)
	e.POST("/v1/webhooks/postmark", (&postmarkHandler{s: s, auth: cfg.PostmarkAuth}).handle)
	e.POST("/v1/webhooks/mailgun", (&mailgunHandler{s: s, key: cfg.MailgunKey, now: now, seen: newTokenCache()}).handle)
	e.POST("/v1/webhooks/sendgrid", (&sendgridHandler{s: s, key: cfg.SendGridKey}).handle)
}

// readWebhookBody reads a provider's request body, at most maxWebhookBody.
func readWebhookBody(c *gin.Context) ([]byte, error) {
	if c.Request.ContentLength > maxWebhookBody {
		return nil, errBodyTooLarge
	}
	return readAllJSON(http.MaxBytesReader(c.Writer, c.Request.Body, maxWebhookBody))
}

// readWebhookJSON reads a provider's body, which must be sent as JSON.
func readWebhookJSON(c *gin.Context) ([]byte, error) {
	if c.Request.ContentLength > maxWebhookBody {
		return nil, errBodyTooLarge
	}
	if c.ContentType() != "application/json" {
		return nil, errWebhookMedia
	}
	return readWebhookBody(c)
}

var errWebhookMedia = newsletter.Errorf(newsletter.EUNSUPPORTEDMEDIA, "Send JSON (application/json).")

// decodeWebhook decodes a provider's JSON body into v.
func decodeWebhook(data []byte, v any) error {
	if err := json.Unmarshal(data, v); err != nil {
		return jsonError(err)
	}
	return nil
}

// applyReports applies each report through subscribers.Service.Report. A
// report about an address that is not valid is counted as ignored, not
// failed: the provider would only send it again. Any other error stops
// there, so that the provider retries (hard bounces and complaints apply
// twice harmlessly; a soft bounce may be counted twice).
func (s *Server) applyReports(c *gin.Context, reports []subscribers.Report) (webhookResult, error) {
	var res webhookResult
	for _, r := range reports {
		_, err := s.cfg.Subscribers.Report(c, r)
		var e *newsletter.Error
		switch {
		case err == nil:
			res.Applied++
		case errors.As(err, &e) && (e.Code == newsletter.EINVALIDEMAIL || e.Code == newsletter.EINVALID):
			s.logger(c).Info("Webhook report skipped", "channel", r.Channel, "code", e.Code)
			res.Ignored++
		default:
			return res, err
		}
	}
	return res, nil
}

// answerReports applies reports and answers with what they did; ignored
// counts the provider's events that made no report.
func (s *Server) answerReports(c *gin.Context, reports []subscribers.Report, ignored int) {
	res, err := s.applyReports(c, reports)
	if err != nil {
		s.fail(c, err)
		return
	}
	res.Ignored += ignored
	c.JSON(http.StatusOK, res)
}

// refuse answers a request whose credentials do not pass, and logs why
// (never the credentials themselves).
func (s *Server) refuse(c *gin.Context, provider string, err error, why string) {
	s.logger(c).Warn("Webhook request refused", "provider", provider, "reason", why)
	s.fail(c, err)
}

// newsletterFromListID returns the newsletter id in a List-Id header
// value, `"Name" <ID.host>` (digests' listID), or "" when it holds none.
func newsletterFromListID(v string) string {
	if i := strings.LastIndexByte(v, '<'); i >= 0 {
		v = v[i+1:]
	}
	v = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), ">"))
	id, _, _ := strings.Cut(v, ".")
	return validNewsletter(id)
}

// validNewsletter returns id when it can name a newsletter, else "".
func validNewsletter(id string) string {
	if newsletter.ValidateID(id) != nil {
		return ""
	}
	return id
}

// metadataNewsletter returns the "newsletter" entry of a provider's
// metadata map (custom arguments, user variables), "" when there is none.
func metadataNewsletter(meta map[string]any) string {
	id, _ := meta["newsletter"].(string)
	return validNewsletter(id)
}

// tokenCache remembers signature tokens for maxSignatureSkew, so that a
// signed request cannot be played again within the window in which its
// timestamp passes. It is per process: cheap, not airtight.
type tokenCache struct {
	mu   sync.Mutex
	seen map[string]time.Time
}

// maxTokens bounds the cache; past it, expired tokens are dropped first.
const maxTokens = 10000

func newTokenCache() *tokenCache { return &tokenCache{seen: map[string]time.Time{}} }

// claim records token at now and reports whether it was new.
func (t *tokenCache) claim(token string, now time.Time) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if at, ok := t.seen[token]; ok && now.Sub(at) < 2*maxSignatureSkew {
		return false
	}
	if len(t.seen) >= maxTokens {
		t.prune(now)
	}
	t.seen[token] = now
	return true
}

// release forgets token, for a request that failed and will come again.
func (t *tokenCache) release(token string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.seen, token)
}

// prune drops the tokens whose timestamps can no longer pass, and every
// token when that frees nothing.
func (t *tokenCache) prune(now time.Time) {
	for k, at := range t.seen {
		if now.Sub(at) >= 2*maxSignatureSkew {
			delete(t.seen, k)
		}
	}
	if len(t.seen) >= maxTokens {
		clear(t.seen)
	}
}
