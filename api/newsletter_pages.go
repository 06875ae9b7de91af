package api

import (
	"encoding/xml"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/digests"
	"newsletter/i18n"
)

// archivePage is how many past issues a newsletter's page lists at a time,
// and its feed holds; maxArchivePage is the last page anyone may ask for
// (?page=): every page reads the issues before it.
const (
	archivePage    = 20
	maxArchivePage = 50
)

// errNoArchivePage answers a page of an archive past maxArchivePage.
var errNoArchivePage = newsletter.Errorf(newsletter.ENOTFOUND, "This newsletter's archive has no such page.")

// pageHead is what a page tells of itself in its <head>: its feed
// (<link rel="alternate">) and its OpenGraph card.
type pageHead struct {
	FeedURL     string
	Type        string // og:type
	Description string
	URL         string
}

// newsletterView is a newsletter as its pages show it.
type newsletterView struct {
	ID, Name, Description, Schedule, URL, FeedURL string
}

// archiveView is a newsletter's page: the newsletter and a page of its
// past issues, with links to newer and older ones.
type archiveView struct {
	newsletterView
	Issues       []issueView
	Newer, Older string
}

// issueView is one past issue in an archive.
type issueView struct {
	Subject, Date, URL string
}

// publicNewsletter loads newsletter id for its public pages: not found when
// it does not exist or is private.
func (s *Server) publicNewsletter(c *gin.Context, id string) (*newsletter.Newsletter, error) {
	n, err := s.loadNewsletter(c, id)
	if err == nil && !n.IsPublic() {
		err = errNoNewsletter
	}
	return n, err
}

// viewOf is newsletter n as its pages show it, its schedule in words of
// its own language.
func (s *Server) viewOf(n *newsletter.Newsletter) newsletterView { return s.viewIn(n, langOf(n)) }

// viewIn is newsletter n as a page in lang shows it.
func (s *Server) viewIn(n *newsletter.Newsletter, lang i18n.Lang) newsletterView {
	url := s.cfg.BaseURL + "/newsletters/" + n.ID
	return newsletterView{ID: n.ID, Name: n.Name, Description: n.Description, Schedule: scheduleInWords(lang, n),
		URL: url, FeedURL: url + "/feed.xml"}
}

// signupFormOf is the sign-up form of newsletter n's own pages, in its
// language; source is the page's URL.
func signupFormOf(n *newsletter.Newsletter, source string) *signupForm {
	lang := langOf(n)
	return &signupForm{ID: "signup", Heading: lang.T("form.get_by_email", n.Name),
		Newsletters: []choice{{ID: n.ID, Name: n.Name, Checked: true, lang: lang}},
		Source:      source, Label: lang.T("form.email_label"), Button: lang.T("form.subscribe")}
}

// handleNewslettersPage lists the site's public newsletters.
func (s *Server) handleNewslettersPage(c *gin.Context) {
	all, err := s.cfg.Newsletters.Newsletters(c)
	if err != nil {
		s.failPage(c, err)
		return
	}
	lang := readerLang(c)
	data := pageData{Lang: lang, Title: lang.T("newsletters"), Head: &pageHead{Type: "website", URL: s.cfg.BaseURL + "/newsletters",
		Description: lang.T("newsletters.description")}}
	for _, n := range all {
		if n.IsPublic() {
			data.Listing = append(data.Listing, s.viewIn(n, lang))
		}
	}
	s.renderPage(c, http.StatusOK, "newsletters", data, "public, max-age=300")
}

// handleNewsletterPage shows one public newsletter: what it is, a sign-up
// form, and its past issues, newest first, archivePage at a time (?page=).
func (s *Server) handleNewsletterPage(c *gin.Context) {
	n, err := s.publicNewsletter(c, pathParam(c, "id"))
	if err != nil {
		s.failPage(c, err)
		return
	}
	page, _ := strconv.Atoi(c.Query("page"))
	page = max(page, 1)
	if page > maxArchivePage {
		s.failPage(c, errNoArchivePage)
		return
	}
	issues, more, err := s.cfg.Digests.Archive(c, n.ID, (page-1)*archivePage, archivePage)
	if err != nil {
		s.failPage(c, err)
		return
	}
	lang := langOf(n)
	v := &archiveView{newsletterView: s.viewIn(n, lang)}
	for _, d := range issues {
		v.Issues = append(v.Issues, issueView{Subject: d.Subject, Date: lang.Date(d.Date().In(location(n))),
			URL: s.cfg.BaseURL + "/digests/" + d.ID})
	}
	if page > 1 {
		v.Newer = fmt.Sprintf("%s?page=%d", v.URL, page-1)
	}
	if more && page < maxArchivePage {
		v.Older = fmt.Sprintf("%s?page=%d", v.URL, page+1)
	}
	data := pageData{Lang: lang, Title: n.Name, Archive: v,
		Head: &pageHead{FeedURL: v.FeedURL, Type: "website", Description: n.Description, URL: v.URL},
		Form: signupFormOf(n, v.URL)}
	s.renderPage(c, http.StatusOK, "newsletter", data, "public, max-age=300")
}

// atomFeed is an Atom 1.0 feed (RFC 4287) of a newsletter's past issues.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID      string   `xml:"id"`
	Title   string   `xml:"title"`
	Updated string   `xml:"updated"`
	Author  string   `xml:"author>name"`
	Link    atomLink `xml:"link"`
	Summary string   `xml:"summary,omitempty"`
}

// handleNewsletterFeed serves the Atom feed of a public newsletter's
// latest archivePage issues.
func (s *Server) handleNewsletterFeed(c *gin.Context) {
	n, err := s.publicNewsletter(c, pathParam(c, "id"))
	if err != nil {
		s.fail(c, err)
		return
	}
	issues, _, err := s.cfg.Digests.Archive(c, n.ID, 0, archivePage)
	if err != nil {
		s.fail(c, err)
		return
	}
	v := s.viewOf(n)
	updated := n.UpdatedAt
	f := atomFeed{ID: v.URL, Title: n.Name,
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: v.FeedURL}, {Rel: "alternate", Type: "text/html", Href: v.URL}}}
	for _, d := range issues {
		at := d.Date()
		if d.FinishedAt != nil {
			at = *d.FinishedAt
		}
		if at.After(updated) {
			updated = at
		}
		url := s.cfg.BaseURL + "/digests/" + d.ID
		f.Entries = append(f.Entries, atomEntry{ID: url, Title: d.Subject, Updated: at.UTC().Format(time.RFC3339),
			Author: n.Name, Link: atomLink{Rel: "alternate", Type: "text/html", Href: url}, Summary: issueSummary(d)})
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	out, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "application/atom+xml; charset=utf-8", append([]byte(xml.Header), out...))
}

// issueSummary is an issue's intro, or the titles of its articles.
func issueSummary(d *digests.Digest) string {
	if d.Intro != "" {
		return d.Intro
	}
	titles := make([]string, 0, len(d.Articles))
	for _, a := range d.Articles {
		titles = append(titles, a.Title)
	}
	return strings.Join(titles, " · ")
}

// scheduleInWords says in lang when a newsletter goes out, for readers:
// "Every day at 07:00 (Europe/Kyiv)" for the usual cron forms, "" without
// a schedule.
func scheduleInWords(lang i18n.Lang, n *newsletter.Newsletter) string {
	f := strings.Fields(n.Schedule)
	if len(f) != 5 {
		return ""
	}
	minute, errM := strconv.Atoi(f[0])
	hour, errH := strconv.Atoi(f[1])
	if errM != nil || errH != nil || f[2] != "*" || f[3] != "*" {
		return lang.T("schedule.other")
	}
	at := fmt.Sprintf("%02d:%02d", hour, minute)
	if n.Timezone != "" {
		at += " (" + n.Timezone + ")"
	}
	switch day, err := strconv.Atoi(f[4]); {
	case f[4] == "*":
		return lang.T("schedule.daily", at)
	case f[4] == "1-5":
		return lang.T("schedule.weekdays", at)
	case err == nil && day >= 0 && day <= 7:
		return lang.T("schedule.weekly."+strconv.Itoa(day%7), at)
	}
	return lang.T("schedule.other")
}
