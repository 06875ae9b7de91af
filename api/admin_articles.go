package api

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/articles"
)

// handleAdminAddArticle adds one article to a newsletter, or updates the
// article of the same URL. The publication time is read in UTC; empty, it
// is now.
func (s *Server) handleAdminAddArticle(c *gin.Context) {
	id := pathParam(c, "id")
	back := adminPath("newsletters", id)
	if _, err := s.loadNewsletter(c, id); err != nil {
		s.adminFail(c, err, back)
		return
	}
	a, err := articleOfForm(c, []string{id})
	var all []string
	if err == nil {
		all, err = s.newsletterIDs(c)
	}
	if err == nil {
		_, _, err = s.cfg.Articles.Upsert(c, []articles.Article{a}, all)
	}
	if err != nil {
		s.adminFail(c, err, back)
		return
	}
	seeOther(c, back, "article")
}

// articleOfForm reads the article form into an article of the given
// newsletters. The lead checkbox sends "true" when checked; an empty
// position is none.
func articleOfForm(c *gin.Context, newsletters []string) (articles.Article, error) {
	published, err := formTime(c.PostForm("published_at"))
	if err != nil {
		return articles.Article{}, err
	}
	position, err := formPosition(c.PostForm("position"))
	return articles.Article{URL: c.PostForm("url"), Title: c.PostForm("title"), Summary: c.PostForm("summary"),
		PublishedAt: published, Author: c.PostForm("author"), Section: c.PostForm("section"),
		ImageURL: c.PostForm("image_url"), ImageAlt: c.PostForm("image_alt"), Newsletters: newsletters,
		Lead: c.PostForm("lead") == "true", Position: position}, err
}

// formPosition reads the position field; empty is 0, no position. The
// range is checked with the article's other fields.
func formPosition(raw string) (int, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return 0, nil
	}
	v, err := strconv.Atoi(raw)
	if err != nil {
		return 0, newsletter.FieldError(newsletter.EINVALIDARTICLE, "position",
			"The position must be a whole number, 1 for first after the lead; empty orders by time.")
	}
	return v, nil
}

// formTime reads a datetime-local field, in UTC; empty is now.
func formTime(raw string) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Now().UTC(), nil
	}
	for _, layout := range []string{datetimeLocal, datetimeLocal + ":05", time.RFC3339} {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, newsletter.FieldError(newsletter.EINVALIDARTICLE, "published_at",
		"The publication time must look like 2026-11-28T07:00.")
}

// adminArticlesPage is how many articles one editor page lists.
const adminArticlesPage = 50

// articlesPage is one page of the editors' article list.
type articlesPage struct {
	List        []articles.Article
	Total       int64
	From, To    int    // 1-based positions of the first and last shown
	Prev, Next  string // links to the neighbouring pages; empty: none
	Newsletters []*newsletter.Newsletter
	// Filter is the list's filter as the form shows it.
	Filter struct{ Newsletter, From, To string }
}

// handleAdminArticles lists the articles, newest published first, a page
// at a time (?offset=), with the filters of GET /v1/articles.
func (s *Server) handleAdminArticles(c *gin.Context) {
	q, err := articleQuery(c)
	if err == nil {
		q.Offset, err = queryInt(c, "offset", 0, 0, maxArticlesOffset, "offset must be a whole number, 0 or more.")
	}
	q.Limit = adminArticlesPage
	var p articlesPage
	if err == nil {
		p.Newsletters, err = s.cfg.Newsletters.Newsletters(c)
	}
	if err == nil {
		p.List, p.Total, err = s.listArticles(c, q)
	}
	if err != nil {
		s.adminFail(c, err, "/admin/articles")
		return
	}
	p.Filter.Newsletter, p.Filter.From, p.Filter.To = q.Newsletter, datetimeValue(q.From), datetimeValue(q.To)
	p.From, p.To = q.Offset+1, q.Offset+len(p.List)
	if q.Offset > 0 {
		p.Prev = articlesLink(c, max(0, q.Offset-adminArticlesPage))
	}
	if int64(p.To) < p.Total && len(p.List) > 0 {
		p.Next = articlesLink(c, p.To)
	}
	s.adminPage(c, http.StatusOK, "articles", adminView{Title: "Articles", Data: p})
}

// articlesLink returns the link to the article list at offset, with the
// request's filters.
func articlesLink(c *gin.Context, offset int) string {
	v := url.Values{}
	for _, name := range []string{"newsletter", "from", "to"} {
		if raw := c.Query(name); raw != "" {
			v.Set(name, raw)
		}
	}
	if offset > 0 {
		v.Set("offset", strconv.Itoa(offset))
	}
	if len(v) == 0 {
		return "/admin/articles"
	}
	return "/admin/articles?" + v.Encode()
}

// datetimeValue returns t as an <input type="datetime-local"> shows it, in
// UTC; the zero time is empty.
func datetimeValue(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(datetimeLocal)
}

// articleEditPage is the edit form of one article.
type articleEditPage struct {
	Article     *articles.Article
	Published   string // the publication time as a datetime-local value, UTC
	Newsletters []articleNewsletter
}

// articleNewsletter is one checkbox of the article's newsletters.
type articleNewsletter struct {
	ID, Name string
	Checked  bool
}

// handleAdminArticle shows the edit form of one article, with its delete
// button.
func (s *Server) handleAdminArticle(c *gin.Context) {
	a, err := s.loadArticle(c)
	var all []*newsletter.Newsletter
	if err == nil {
		all, err = s.cfg.Newsletters.Newsletters(c)
	}
	if err != nil {
		s.adminFail(c, err, "/admin/articles")
		return
	}
	p := articleEditPage{Article: a, Published: datetimeValue(a.PublishedAt)}
	for _, n := range all {
		p.Newsletters = append(p.Newsletters, articleNewsletter{ID: n.ID, Name: n.Name, Checked: slices.Contains(a.Newsletters, n.ID)})
	}
	s.adminPage(c, http.StatusOK, "article", adminView{Title: a.Title, Data: p})
}

// handleAdminUpdateArticle saves the edit form: the article's new fields,
// checked as POST /v1/articles checks them, and at least one newsletter.
// It goes back to the article, under its new id when its URL changed.
func (s *Server) handleAdminUpdateArticle(c *gin.Context) {
	id := pathParam(c, "id")
	back := adminPath("articles", id)
	a, err := articleOfForm(c, c.PostFormArray("newsletter"))
	if err == nil && len(a.Newsletters) == 0 {
		err = newsletter.FieldError(newsletter.EINVALIDARTICLE, "newsletters", "Choose at least one newsletter for the article.")
	}
	var all []string
	if err == nil {
		all, err = s.newsletterIDs(c)
	}
	var saved *articles.Article
	if err == nil {
		saved, err = s.cfg.Articles.Update(c, id, a, all)
	}
	if err != nil {
		s.adminFail(c, err, back)
		return
	}
	seeOther(c, adminPath("articles", saved.ID), "article_saved")
}

// handleAdminDeleteArticle deletes an article and goes back to the list.
func (s *Server) handleAdminDeleteArticle(c *gin.Context) {
	if err := s.cfg.Articles.Delete(c, pathParam(c, "id")); err != nil {
		s.adminFail(c, err, "/admin/articles")
		return
	}
	seeOther(c, "/admin/articles", "article_deleted")
}
