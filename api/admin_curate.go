package api

import (
	"cmp"
	"fmt"
	"math"
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

// curateRows turns a draft into the rows of the curation form, with the
// times in loc.
func curateRows(d *digests.Draft, loc *time.Location) []curateRow {
	rows := make([]curateRow, len(d.Articles))
	lead := -1
	for i, a := range d.Articles {
		a.PublishedAt = a.PublishedAt.In(loc)
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

// parseSendAt parses the datetime-local field send_at as a time on the
// clocks of loc. It refuses a time those clocks skip (as they go forward);
// of one they show twice (as they go back) it takes the first, which the
// page that asks to confirm says.
func parseSendAt(raw string, loc *time.Location) (time.Time, error) {
	wall, err := time.Parse(datetimeLocal, strings.TrimSpace(raw))
	if err != nil {
		return wall, newsletter.FieldError(newsletter.EINVALIDDIGEST, "send_at", "Enter the date and time to send the digest at.")
	}
	at := instantsOf(wall, loc)
	if len(at) == 0 {
		return wall, newsletter.FieldError(newsletter.EINVALIDDIGEST, "send_at", fmt.Sprintf(
			"%s does not exist in %s: the clocks go forward past it. Choose another time.", wall.Format("January 2, 2006 15:04"), loc))
	}
	return at[0], nil
}

// instantsOf returns the times, earliest first, at which the clocks of loc
// show wall (its date and time read as they are): none when they skip it,
// two when they show it twice. A zone changes its offset at most once
// within a day, so the offsets a day before and after are the candidates.
func instantsOf(wall time.Time, loc *time.Location) []time.Time {
	var out []time.Time
	for _, probe := range []time.Duration{-24 * time.Hour, 24 * time.Hour} {
		_, offset := wall.Add(probe).In(loc).Zone()
		t := wall.Add(-time.Duration(offset) * time.Second)
		if t.In(loc).Format(datetimeLocal) == wall.Format(datetimeLocal) && !slices.ContainsFunc(out, t.Equal) {
			out = append(out, t)
		}
	}
	slices.SortFunc(out, func(a, b time.Time) int { return a.Compare(b) })
	return out
}

// twiceNote says, for a send_at the clocks of loc show twice, which of
// the two it is; "" for any other.
func twiceNote(at time.Time, loc *time.Location) string {
	local := at.In(loc)
	wall := time.Date(local.Year(), local.Month(), local.Day(), local.Hour(), local.Minute(), 0, 0, time.UTC)
	if len(instantsOf(wall, loc)) < 2 {
		return ""
	}
	return fmt.Sprintf("The clocks of %s go back that night, so %s comes twice: the digest goes at the first, %s (%s).",
		loc, local.Format("15:04"), local.Format("15:04 MST"), at.UTC().Format("15:04 MST"))
}

// inZone puts the times digest d shows in loc, the newsletter's time zone.
func inZone(d *digests.Digest, loc *time.Location) *digests.Digest {
	d.CreatedAt, d.Since = d.CreatedAt.In(loc), d.Since.In(loc)
	for _, t := range []*time.Time{d.SendAt, d.FinishedAt} {
		if t != nil {
			*t = t.In(loc)
		}
	}
	return d
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
	s.showPreview(c, id, d, n, err)
}
