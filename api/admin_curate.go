package api

import (
	"cmp"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/digests"
)

// curateRow is one candidate of the curation form, with what the form
// shows first: picked when the default selection takes it, in its order,
// and the lead radio on the first lead article it takes.
type curateRow struct {
	digests.Candidate
	Order  string
	IsLead bool
}

// curateRows turns a draft into the rows of the curation form.
func curateRows(d *digests.Draft) []curateRow {
	rows := make([]curateRow, len(d.Articles))
	lead := -1
	for i, a := range d.Articles {
		rows[i] = curateRow{Candidate: a}
		if a.Selected {
			rows[i].Order = strconv.Itoa(a.Rank)
			if a.Lead && (lead < 0 || a.Rank < d.Articles[lead].Rank) {
				lead = i
			}
		}
	}
	if lead >= 0 {
		rows[lead].IsLead = true
	}
	return rows
}

// handleAdminCurate acts on the curation form of the next digest: the
// picked articles, in the order of their numbers, with the lead chosen.
// Its buttons (action) preview them, send a test of them, or ask to
// confirm sending them now or at the time given.
func (s *Server) handleAdminCurate(c *gin.Context) {
	id := pathParam(c, "id")
	back := adminPath("newsletters", id)
	n, err := s.loadNewsletter(c, id)
	var req digests.Request
	if err == nil {
		req, err = curation(c)
	}
	if err != nil {
		s.adminFail(c, err, back)
		return
	}
	switch c.PostForm("action") {
	case "preview":
		s.previewCurated(c, id, req)
	case "test":
		req.TestRecipients = addressList(c.PostForm("to"))
		if len(req.TestRecipients) == 0 {
			s.adminFail(c, newsletter.FieldError(newsletter.EINVALIDDIGEST, "to", "Enter an address to send the test to."), back)
			return
		}
		s.createDigest(c, id, req)
	case "schedule":
		if req.SendAt, err = parseSendAt(c.PostForm("send_at"), location(n)); err != nil {
			s.adminFail(c, err, back)
			return
		}
		s.confirmSend(c, id, req, randomValue())
	default:
		s.confirmSend(c, id, req, randomValue())
	}
}

// curation reads the curation form: the picked article ids (pick), ordered
// by their order-ID numbers, lowest first (those without one after, as
// listed), the lead, the subject and the intro.
func curation(c *gin.Context) (digests.Request, error) {
	req := digests.Request{Subject: c.PostForm("subject"), Intro: c.PostForm("intro"), Lead: c.PostForm("lead")}
	picks := c.PostFormArray("pick")
	if len(picks) == 0 {
		return req, newsletter.FieldError(newsletter.EINVALIDDIGEST, "pick", "Pick at least one article.")
	}
	order := make(map[string]int, len(picks))
	for _, id := range picks {
		raw := strings.TrimSpace(c.PostForm("order-" + id))
		if raw == "" {
			order[id] = math.MaxInt
			continue
		}
		v, err := strconv.Atoi(raw)
		if err != nil {
			return req, newsletter.FieldError(newsletter.EINVALIDDIGEST, "order", "An article's order is a whole number.")
		}
		order[id] = v
	}
	slices.SortStableFunc(picks, func(a, b string) int { return cmp.Compare(order[a], order[b]) })
	req.Articles = picks
	return req, nil
}

// parseSendAt parses the datetime-local field send_at in loc.
func parseSendAt(raw string, loc *time.Location) (time.Time, error) {
	t, err := time.ParseInLocation(datetimeLocal, strings.TrimSpace(raw), loc)
	if err != nil {
		return t, newsletter.FieldError(newsletter.EINVALIDDIGEST, "send_at", "Enter the date and time to send the digest at.")
	}
	return t, nil
}

// addressList splits a form field of addresses at commas, semicolons and
// white space.
func addressList(raw string) []string {
	return strings.FieldsFunc(raw, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' })
}

// previewCurated shows the digest req makes as readers would see it on the
// web; nothing is stored or sent.
func (s *Server) previewCurated(c *gin.Context, id string, req digests.Request) {
	d, n, err := s.cfg.Digests.PreviewRequest(c, id, req)
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
