package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/articles"
	"newsletter/digests"
)

// digestJSON is the body of POST /v1/newsletters/{id}/digests; all optional.
type digestJSON struct {
	Subject        string   `json:"subject"`
	Intro          string   `json:"intro"`
	Since          string   `json:"since"`
	MaxArticles    int      `json:"max_articles"`
	TestRecipients []string `json:"test_recipients"`
	Articles       []string `json:"articles"` // ids or URLs, in order
	Lead           string   `json:"lead"`     // id or URL of one of the articles
	SendAt         string   `json:"send_at"`  // RFC 3339, in the future
}

func (s *Server) handleCreateDigest(c *gin.Context) {
	var body digestJSON
	if c.Request.ContentLength != 0 {
		if err := decodeJSON(c, maxEditorBody, &body); err != nil {
			s.fail(c, err)
			return
		}
	}
	req, err := body.request(c.GetHeader("Idempotency-Key"))
	if err != nil {
		s.fail(c, err)
		return
	}
	d, created, err := s.cfg.Digests.Create(c, pathParam(c, "id"), req)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(statusIf(created, http.StatusAccepted), d)
}

// request turns the body into a digest request, parsing its times.
func (b *digestJSON) request(key string) (digests.Request, error) {
	req := digests.Request{Subject: b.Subject, Intro: b.Intro, MaxArticles: b.MaxArticles,
		TestRecipients: b.TestRecipients, IdempotencyKey: key, Articles: b.Articles, Lead: b.Lead}
	var err error
	if req.Since, err = parseTime(b.Since, "since"); err != nil {
		return req, err
	}
	req.SendAt, err = parseTime(b.SendAt, "send_at")
	return req, err
}

// parseTime parses an optional RFC 3339 time of a digest request.
func parseTime(raw, field string) (time.Time, error) {
	if raw == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, raw)
	if err != nil {
		return t, newsletter.FieldError(newsletter.EINVALIDDIGEST, field, field+" must be an RFC 3339 time.")
	}
	return t, nil
}

// handleDigestDraft answers the candidates of a newsletter's next digest:
// its articles since the cutoff, newest first, each with its id and
// whether the default selection takes it, for an editor to pick from.
func (s *Server) handleDigestDraft(c *gin.Context) {
	d, err := s.cfg.Digests.Draft(c, pathParam(c, "id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *Server) handleGetDigest(c *gin.Context) {
	d, err := s.cfg.Digests.Get(c, pathParam(c, "id"))
	if err == nil {
		err = s.withEngagement(c, d)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

func (s *Server) handleCancelDigest(c *gin.Context) {
	d, err := s.cfg.Digests.Cancel(c, pathParam(c, "id"))
	if err == nil {
		err = s.withEngagement(c, d)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, d)
}

// withEngagement adds their clicks and opens to digests that editors see
// (digests.Store.Engagement): the public pages and sending go without.
func (s *Server) withEngagement(c *gin.Context, list ...*digests.Digest) error {
	for _, d := range list {
		if err := s.cfg.Digests.Store.Engagement(c, d); err != nil {
			return err
		}
	}
	return nil
}

// handlePreviewDigest renders the next digest as a reader would see it on
// the web, sending nothing.
func (s *Server) handlePreviewDigest(c *gin.Context) {
	d, n, err := s.cfg.Digests.Preview(c, pathParam(c, "id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	body, err := digests.Render(s.cfg.Templates, d, n, s.cfg.BaseURL, digests.WithPostalAddress(s.cfg.PostalAddress),
		digests.WithTemplate(n.DigestTemplate))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(body.Public(s.cfg.BaseURL)))
}

// handleWebView shows a digest that went out as a page of the site: the
// newsletter's name, the issue's articles and a form to sign up for the
// newsletter; nothing personal, and none of the email's greeting, "view in
// browser" link or unsubscribe footer.
func (s *Server) handleWebView(c *gin.Context) {
	id := pathParam(c, "id")
	d, err := s.cfg.Digests.Get(c, id)
	if err == nil && d.IsTest() {
		err = newsletter.Errorf(newsletter.ENOTFOUND, "No digest has this id.")
	}
	var body *digests.Body
	if err == nil {
		body, err = s.cfg.Digests.Body(c, id)
	}
	if err == nil && body == nil {
		err = newsletter.Errorf(newsletter.ENOTFOUND, "This digest is not ready yet.")
	}
	var n *newsletter.Newsletter
	if err == nil {
		n, err = s.publicNewsletter(c, d.Newsletter)
	}
	if err != nil {
		s.failPage(c, err)
		return
	}
	lang, v := langOf(n), s.viewOf(n)
	data := pageData{Lang: lang, Title: d.Subject + " · " + n.Name, Digest: webView(d, n),
		Head: &pageHead{FeedURL: v.FeedURL, Type: "article", Description: issueSummary(d), URL: s.cfg.BaseURL + "/digests/" + d.ID},
		Form: signupFormOf(n, s.cfg.BaseURL+"/digests/"+d.ID)}
	s.renderPage(c, http.StatusOK, "digest", data, "public, max-age=300")
}

// digestView is a digest as its web view shows it.
type digestView struct {
	Newsletter    string // its name
	NewsletterURL string // its page, with the archive
	Subject       string
	Intro         string
	Date          string
	Articles      []articles.Article
}

func webView(d *digests.Digest, n *newsletter.Newsletter) *digestView {
	return &digestView{Newsletter: n.Name, NewsletterURL: "/newsletters/" + n.ID, Subject: d.Subject, Intro: d.Intro,
		Date: langOf(n).Date(d.Date().In(location(n))), Articles: d.Articles}
}

// Limits of a page of a newsletter's digest history.
const (
	defaultHistoryLimit = 20
	maxHistoryLimit     = 100
	maxHistoryOffset    = 1_000_000
)

// handleDigestHistory answers one page of a newsletter's digests, newest
// first, each with its counts and what came back (reports): ?offset=
// (default 0) and ?limit= (default 20, at most 100).
func (s *Server) handleDigestHistory(c *gin.Context) {
	id := pathParam(c, "id")
	if _, err := s.loadNewsletter(c, id); err != nil {
		s.fail(c, err)
		return
	}
	offset, err := queryInt(c, "offset", 0, 0, maxHistoryOffset, "offset must be a whole number, 0 or more.")
	if err != nil {
		s.fail(c, err)
		return
	}
	limit, err := queryInt(c, "limit", defaultHistoryLimit, 1, maxHistoryLimit,
		"limit must be a whole number from 1 to "+strconv.Itoa(maxHistoryLimit)+".")
	if err != nil {
		s.fail(c, err)
		return
	}
	list, total, err := s.cfg.Digests.Store.History(c, id, offset, limit)
	if err == nil {
		err = s.withEngagement(c, list...)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"digests": list, "total": total, "offset": offset, "limit": limit})
}
