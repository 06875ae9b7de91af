package api

import (
	"bytes"
	"encoding/json"
	"net/http"
	"newsletter"
	"time"

	"github.com/gin-gonic/gin"
)

const maxEditorBody = 64 << 10

// maxNewsletterBody is the most a PUT of a newsletter may send: room for
// a digest template of the most it may be, escaped in JSON.
const maxNewsletterBody = 4 * newsletter.MaxDigestTemplateLen

// newsletterJSON is the body of PUT /v1/newsletters/{id}.
type newsletterJSON struct {
	Name        string   `json:"name"`
	Description string   `json:"description"`
	From        string   `json:"from"`
	MaxArticles int      `json:"max_articles"`
	Schedule    string   `json:"schedule"`
	Timezone    string   `json:"timezone"`
	MaxLateness string   `json:"max_lateness"`
	Feeds       []string `json:"feeds"`
	Public      *bool    `json:"public"`   // absent: true
	Language    string   `json:"language"` // absent: "en"
	// PostalAddress overrides NEWSLETTER_POSTAL_ADDRESS in its emails.
	PostalAddress string `json:"postal_address"`
	LogoURL       string `json:"logo_url"`
	AccentColor   string `json:"accent_color"`
	FooterText    string `json:"footer_text"`
	// DigestTemplate is its own digest HTML template; absent or "": the
	// service's.
	DigestTemplate string `json:"digest_template"`
}

// newsletterWithCounts is a newsletter as the editor list shows it.
type newsletterWithCounts struct {
	*newsletter.Newsletter
	Subscribers newsletter.Counts `json:"subscribers"`
}

func (s *Server) handlePutNewsletter(c *gin.Context) {
	id := pathParam(c, "id")
	if err := newsletter.ValidateID(id); err != nil {
		s.fail(c, err)
		return
	}
	var body newsletterJSON
	if err := decodeJSON(c, maxNewsletterBody, &body); err != nil {
		s.fail(c, err)
		return
	}
	now := time.Now().UTC().Truncate(time.Second)
	n := &newsletter.Newsletter{ID: id, Name: body.Name, Description: body.Description, From: body.From,
		MaxArticles: body.MaxArticles, Schedule: body.Schedule, Timezone: body.Timezone,
		MaxLateness: body.MaxLateness, Feeds: body.Feeds, Public: body.Public, Language: body.Language,
		PostalAddress: body.PostalAddress, LogoURL: body.LogoURL, AccentColor: body.AccentColor, FooterText: body.FooterText,
		DigestTemplate: body.DigestTemplate, CreatedAt: now, UpdatedAt: now}
	n.Normalize()
	if err := s.validateNewsletter(n); err != nil {
		s.fail(c, err)
		return
	}
	created, err := s.cfg.Newsletters.PutNewsletter(c, n)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(statusIf(created, http.StatusCreated), n)
}

func (s *Server) handleListNewsletters(c *gin.Context) {
	all, err := s.cfg.Newsletters.Newsletters(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	list := make([]newsletterWithCounts, 0, len(all))
	for _, n := range all {
		counts, err := s.cfg.Newsletters.Counts(c, n.ID)
		if err != nil {
			s.fail(c, err)
			return
		}
		list = append(list, newsletterWithCounts{Newsletter: n, Subscribers: counts})
	}
	c.JSON(http.StatusOK, gin.H{"newsletters": list})
}

// decodeJSON reads one JSON value of at most max bytes into v.
func decodeJSON(c *gin.Context, max int64, v any) error {
	if c.Request.ContentLength > max {
		return errBodyTooLarge
	}
	if mt := c.ContentType(); mt != "application/json" {
		return errUnsupportedMedia
	}
	data, err := readAllJSON(http.MaxBytesReader(c.Writer, c.Request.Body, max))
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if dec.More() {
		return errMalformed
	}
	return nil
}
