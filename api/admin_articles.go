package api

import (
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
	a, err := articleOfForm(c, id)
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

// articleOfForm reads the article form into an article of newsletter id.
// The lead checkbox sends "true" when checked; an empty position is none.
func articleOfForm(c *gin.Context, id string) (articles.Article, error) {
	published, err := formTime(c.PostForm("published_at"))
	if err != nil {
		return articles.Article{}, err
	}
	position, err := formPosition(c.PostForm("position"))
	return articles.Article{URL: c.PostForm("url"), Title: c.PostForm("title"), Summary: c.PostForm("summary"),
		PublishedAt: published, Author: c.PostForm("author"), Section: c.PostForm("section"),
		ImageURL: c.PostForm("image_url"), ImageAlt: c.PostForm("image_alt"), Newsletters: []string{id},
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
