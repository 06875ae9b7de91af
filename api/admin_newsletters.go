package api

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/digests"
	"newsletter/templates"
)

// newsletterPage is what the page of one newsletter shows.
type newsletterPage struct {
	Newsletter *newsletter.Newsletter
	Counts     newsletter.Counts
	Feeds      string            // one per line, for the settings form
	Next       *digests.Digest   // the next digest as it would be made now; nil when there is nothing new
	Sending    []*digests.Digest // digests under way
	Key        string            // idempotency key of the send form, so a double submit sends once
	Now        string            // the default publication time of a new article
	BuiltIn    string            // the built-in digest template, to start one of its own from
	Curate     []curateRow       // the candidates of the next digest, for the curation form
	Scheduled  []*digests.Digest // digests waiting for their send_at, soonest first
	Zone       string            // the newsletter's time zone, which the schedule field is in
	SendAt     string            // the schedule field's default: the next full hour
}

// datetimeLocal is the layout of an <input type="datetime-local">.
const datetimeLocal = "2006-01-02T15:04"

var errNoNewsletter = newsletter.Errorf(newsletter.ENOTFOUND, "No newsletter has this id.")

// handleAdminIndex lists the newsletters with their subscriber counts.
func (s *Server) handleAdminIndex(c *gin.Context) {
	list, err := s.newslettersWithCounts(c)
	if err != nil {
		s.adminFail(c, err, "/admin")
		return
	}
	s.adminPage(c, http.StatusOK, "index", adminView{Title: "Newsletters", Data: list})
}

func (s *Server) newslettersWithCounts(c *gin.Context) ([]newsletterWithCounts, error) {
	all, err := s.cfg.Newsletters.Newsletters(c)
	if err != nil {
		return nil, err
	}
	list := make([]newsletterWithCounts, 0, len(all))
	for _, n := range all {
		counts, err := s.cfg.Newsletters.Counts(c, n.ID)
		if err != nil {
			return nil, err
		}
		list = append(list, newsletterWithCounts{Newsletter: n, Subscribers: counts})
	}
	return list, nil
}

// handleAdminCreateNewsletter creates a newsletter; an id in use is a
// conflict, as this form only creates.
func (s *Server) handleAdminCreateNewsletter(c *gin.Context) {
	id := strings.TrimSpace(c.PostForm("id"))
	err := newsletter.ValidateID(id)
	var old *newsletter.Newsletter
	if err == nil {
		old, err = s.cfg.Newsletters.Newsletter(c, id)
	}
	if err == nil && old != nil {
		err = newsletter.FieldError(newsletter.ECONFLICT, "id", "A newsletter with this id exists already.")
	}
	if err == nil {
		now := time.Now().UTC().Truncate(time.Second)
		err = s.saveNewsletter(c, &newsletter.Newsletter{ID: id, Name: c.PostForm("name"),
			Description: c.PostForm("description"), From: c.PostForm("from"), Language: c.PostForm("language"), CreatedAt: now})
	}
	if err != nil {
		s.adminFail(c, err, "/admin")
		return
	}
	seeOther(c, adminPath("newsletters", id), "created")
}

// handleAdminUpdateNewsletter saves the settings form of a newsletter.
func (s *Server) handleAdminUpdateNewsletter(c *gin.Context) {
	id := pathParam(c, "id")
	n, err := s.loadNewsletter(c, id)
	if err == nil {
		err = fillSettings(c, n)
	}
	if err == nil {
		err = s.saveNewsletter(c, n)
	}
	if err != nil {
		s.adminFail(c, err, adminPath("newsletters", id))
		return
	}
	seeOther(c, adminPath("newsletters", id), "saved")
}

// fillSettings copies the settings form into n. Language, public, the
// postal address and the branding keep their values when the form has no
// such field; the form sends public as a hidden "false" followed, when
// checked, by the checkbox's "true".
func fillSettings(c *gin.Context, n *newsletter.Newsletter) error {
	if lang, ok := c.GetPostForm("language"); ok {
		n.Language = lang
	}
	if values, ok := c.GetPostFormArray("public"); ok {
		public := values[len(values)-1] == "true"
		n.Public = &public
	}
	fillBranding(c, n)
	n.Name, n.Description, n.From = c.PostForm("name"), c.PostForm("description"), c.PostForm("from")
	n.Schedule, n.Timezone, n.MaxLateness = c.PostForm("schedule"), c.PostForm("timezone"), c.PostForm("max_lateness")
	n.Feeds = strings.Fields(c.PostForm("feeds"))
	n.MaxArticles = 0
	if raw := strings.TrimSpace(c.PostForm("max_articles")); raw != "" {
		v, err := strconv.Atoi(raw)
		if err != nil {
			return newsletter.FieldError(newsletter.EINVALIDNEWSLETTER, "max_articles", "The number of articles must be a whole number.")
		}
		n.MaxArticles = v
	}
	return nil
}

// fillBranding copies the postal address and branding fields of the
// settings form into n; a field the form does not send keeps its value.
func fillBranding(c *gin.Context, n *newsletter.Newsletter) {
	for field, v := range map[string]*string{"postal_address": &n.PostalAddress, "logo_url": &n.LogoURL,
		"accent_color": &n.AccentColor, "footer_text": &n.FooterText} {
		if value, ok := c.GetPostForm(field); ok {
			*v = value
		}
	}
}

// saveNewsletter normalizes, validates and stores n.
func (s *Server) saveNewsletter(c *gin.Context, n *newsletter.Newsletter) error {
	n.UpdatedAt = time.Now().UTC().Truncate(time.Second)
	n.Normalize()
	if err := s.validateNewsletter(n); err != nil {
		return err
	}
	_, err := s.cfg.Newsletters.PutNewsletter(c, n)
	return err
}

// validateNewsletter reports the first field of n, normalized, that is
// not acceptable, its digest template included (digests.CheckTemplate).
func (s *Server) validateNewsletter(n *newsletter.Newsletter) error {
	if err := n.Validate(); err != nil {
		return err
	}
	return digests.CheckTemplate(s.cfg.Templates, n)
}

func (s *Server) loadNewsletter(c *gin.Context, id string) (*newsletter.Newsletter, error) {
	n, err := s.cfg.Newsletters.Newsletter(c, id)
	if err == nil && n == nil {
		err = errNoNewsletter
	}
	return n, err
}

// handleAdminNewsletter shows one newsletter: its counts, the next digest,
// and the forms to add an article, send a test, send the digest and change
// its settings.
func (s *Server) handleAdminNewsletter(c *gin.Context) {
	p, err := s.newsletterPage(c, pathParam(c, "id"))
	if err != nil {
		s.adminFail(c, err, "/admin")
		return
	}
	s.adminPage(c, http.StatusOK, "newsletter", adminView{Title: p.Newsletter.Name, Data: p})
}

func (s *Server) newsletterPage(c *gin.Context, id string) (*newsletterPage, error) {
	n, err := s.loadNewsletter(c, id)
	if err != nil {
		return nil, err
	}
	p := &newsletterPage{Newsletter: n, Feeds: strings.Join(n.Feeds, "\n"), Key: randomValue(),
		Now: time.Now().UTC().Format(datetimeLocal)}
	if p.BuiltIn, err = templates.Source("email/digest.html.tmpl"); err != nil {
		return nil, err
	}
	if p.Counts, err = s.cfg.Newsletters.Counts(c, id); err != nil {
		return nil, err
	}
	if p.Next, _, err = s.cfg.Digests.Preview(c, id); newsletter.ErrorCode(err) == newsletter.ENOARTICLES {
		p.Next, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	p.Sending, err = s.cfg.Digests.Unfinished(c, id)
	if err != nil {
		return nil, err
	}
	return p, s.fillCuration(c, p)
}

// fillCuration adds to p the curation form's candidates and the digests
// scheduled, in the newsletter's time zone.
func (s *Server) fillCuration(c *gin.Context, p *newsletterPage) error {
	draft, err := s.cfg.Digests.Draft(c, p.Newsletter.ID)
	if err != nil {
		return err
	}
	loc := location(p.Newsletter)
	p.Curate = curateRows(draft, loc)
	p.Zone = loc.String()
	now := time.Now().In(loc) // the next full hour on the newsletter's clocks, not in UTC
	p.SendAt = time.Date(now.Year(), now.Month(), now.Day(), now.Hour()+1, 0, 0, 0, loc).Format(datetimeLocal)
	if p.Next != nil {
		inZone(p.Next, loc)
	}
	p.Scheduled, err = s.cfg.Digests.Scheduled(c, p.Newsletter.ID)
	for _, d := range p.Scheduled {
		inZone(d, loc)
	}
	p.Sending = slices.DeleteFunc(p.Sending, func(d *digests.Digest) bool { // listed as scheduled
		return d.SendAt != nil && d.Status == digests.StatusQueued
	})
	return err
}

// handleAdminPreview shows the next digest as readers would see it on the
// web; nothing is stored or sent.
func (s *Server) handleAdminPreview(c *gin.Context) {
	id := pathParam(c, "id")
	d, n, err := s.cfg.Digests.Preview(c, id)
	s.showPreview(c, id, d, n, err)
}

// showPreview renders digest d of newsletter n (err: why there is none)
// as readers would see it on the web, for the editor of newsletter id.
func (s *Server) showPreview(c *gin.Context, id string, d *digests.Digest, n *newsletter.Newsletter, err error) {
	var body *digests.Body
	if err == nil {
		body, err = digests.Render(s.cfg.Templates, d, n, s.cfg.BaseURL, digests.WithPostalAddress(s.cfg.PostalAddress),
			digests.WithTemplate(n.DigestTemplate))
	}
	if err != nil {
		s.adminFail(c, err, adminPath("newsletters", id))
		return
	}
	c.Header("Cache-Control", "no-store")
	c.Data(http.StatusOK, "text/html; charset=utf-8", []byte(body.Public(s.cfg.BaseURL)))
}

// handleAdminTestDigest sends the next digest to the addresses of the form
// only; the newsletter's cutoff does not move.
func (s *Server) handleAdminTestDigest(c *gin.Context) {
	id := pathParam(c, "id")
	to := addressList(c.PostForm("to"))
	if len(to) == 0 {
		s.adminFail(c, newsletter.FieldError(newsletter.EINVALIDDIGEST, "to", "Enter an address to send the test to."), adminPath("newsletters", id))
		return
	}
	s.createDigest(c, id, digests.Request{Subject: c.PostForm("subject"), Intro: c.PostForm("intro"), TestRecipients: to})
}

// handleAdminSendDigest sends the next digest to every confirmed
// subscriber, once the editor confirmed on a page that says to how many
// (the form's confirm=yes). The form's idempotency key makes a second
// submit of the same form show the first digest instead of sending again.
// A curated digest carries its articles (article, in order), its lead and
// its send_at (RFC 3339) from the page that asked to confirm.
func (s *Server) handleAdminSendDigest(c *gin.Context) {
	req := digests.Request{Subject: c.PostForm("subject"), Intro: c.PostForm("intro"),
		Articles: c.PostFormArray("article"), Lead: c.PostForm("lead")}
	if raw := c.PostForm("send_at"); raw != "" {
		at, err := time.Parse(time.RFC3339, raw)
		if err != nil {
			s.adminFail(c, newsletter.FieldError(newsletter.EINVALIDDIGEST, "send_at", "send_at must be an RFC 3339 time."), adminPath("newsletters", pathParam(c, "id")))
			return
		}
		req.SendAt = at
	}
	if c.PostForm("confirm") != "yes" {
		s.confirmSend(c, pathParam(c, "id"), req, c.PostForm("key"))
		return
	}
	if key := c.PostForm("key"); key != "" {
		req.IdempotencyKey = "admin-" + key
	}
	s.createDigest(c, pathParam(c, "id"), req)
}

// sendPage is what the page that asks to confirm sending a digest shows.
type sendPage struct {
	Newsletter *newsletter.Newsletter
	Readers    string // how many confirmed readers, for people: "1,234 confirmed readers"
	Subject    string // the subject the digest will have
	Articles   int
	Form       digests.Request // what the editor filled in, carried to the next step
	Key        string
	SendAt     string // when a scheduled digest goes out, in the newsletter's time zone; empty: now
	SendAtNote string // says which of two times it is when the clocks show it twice
	SendAtRFC  string // the same, carried to the next step
}

// confirmSend asks the editor to confirm sending the next digest of
// newsletter id to its whole audience, naming how many readers that is.
func (s *Server) confirmSend(c *gin.Context, id string, req digests.Request, key string) {
	back := adminPath("newsletters", id)
	n, err := s.loadNewsletter(c, id)
	var next *digests.Digest
	if err == nil {
		next, _, err = s.cfg.Digests.PreviewRequest(c, id, req)
	}
	var counts newsletter.Counts
	if err == nil {
		counts, err = s.cfg.Newsletters.Counts(c, id)
	}
	if err != nil {
		s.adminFail(c, err, back)
		return
	}
	readers := templates.Count(counts.Confirmed) + " confirmed reader"
	if counts.Confirmed != 1 {
		readers += "s"
	}
	p := sendPage{Newsletter: n, Readers: readers, Subject: cmp.Or(strings.TrimSpace(req.Subject), next.Subject),
		Articles: len(next.Articles), Form: req, Key: key}
	if !req.SendAt.IsZero() {
		p.SendAt = req.SendAt.In(location(n)).Format("Monday, January 2, 2006 15:04 MST")
		p.SendAtNote = twiceNote(req.SendAt, location(n))
		p.SendAtRFC = req.SendAt.UTC().Format(time.RFC3339)
	}
	s.adminPage(c, http.StatusOK, "send", adminView{Title: "Send to " + readers + "?", Data: p})
}

// createDigest creates a digest of newsletter id and shows its progress.
func (s *Server) createDigest(c *gin.Context, id string, req digests.Request) {
	d, _, err := s.cfg.Digests.Create(c, id, req)
	if err != nil {
		s.adminFail(c, err, adminPath("newsletters", id))
		return
	}
	seeOther(c, adminPath("digests", d.ID), "")
}
