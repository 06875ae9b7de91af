package api

import (
	"fmt"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/articles"
)

// maxArticlesBody caps a batch of articles.
const maxArticlesBody = 5 << 20

// articleJSON is one article as posted; published_at is read here so a bad
// date is reported with its field.
type articleJSON struct {
	URL         string   `json:"url"`
	Title       string   `json:"title"`
	Summary     string   `json:"summary"`
	PublishedAt string   `json:"published_at"`
	Author      string   `json:"author"`
	Section     string   `json:"section"`
	ImageURL    string   `json:"image_url"`
	ImageAlt    string   `json:"image_alt"`
	Newsletters []string `json:"newsletters"`
	Lead        bool     `json:"lead"`
	Position    int      `json:"position"`
}

func (s *Server) handlePostArticles(c *gin.Context) {
	var body struct {
		Articles []articleJSON `json:"articles"`
	}
	if err := decodeJSON(c, maxArticlesBody, &body); err != nil {
		s.fail(c, err)
		return
	}
	batch, err := toArticles(body.Articles)
	if err != nil {
		s.fail(c, err)
		return
	}
	all, err := s.newsletterIDs(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	created, updated, err := s.cfg.Articles.Upsert(c, batch, all)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"created": created, "updated": updated})
}

func toArticles(in []articleJSON) ([]articles.Article, error) {
	if len(in) == 0 {
		return nil, newsletter.FieldError(newsletter.EINVALIDARTICLE, "articles", "Send at least one article.")
	}
	out := make([]articles.Article, len(in))
	for i, a := range in {
		published, err := time.Parse(time.RFC3339, a.PublishedAt)
		if err != nil {
			return nil, newsletter.FieldError(newsletter.EINVALIDARTICLE, fmt.Sprintf("articles[%d].published_at", i),
				"published_at must be an RFC 3339 time such as 2026-11-28T07:00:00Z.")
		}
		out[i] = articles.Article{URL: a.URL, Title: a.Title, Summary: a.Summary, PublishedAt: published,
			Author: a.Author, Section: a.Section, ImageURL: a.ImageURL, ImageAlt: a.ImageAlt, Newsletters: a.Newsletters,
			Lead: a.Lead, Position: a.Position}
	}
	return out, nil
}

func (s *Server) newsletterIDs(c *gin.Context) ([]string, error) {
	all, err := s.cfg.Newsletters.Newsletters(c)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(all))
	for i, n := range all {
		ids[i] = n.ID
	}
	return ids, nil
}
