package api

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
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

// Paging of GET /v1/articles.
const (
	defaultArticlesLimit = 20
	maxArticlesLimit     = 100
	maxArticlesOffset    = 1_000_000
	// maxArticleBody caps the body of PUT /v1/articles/{id}: one article.
	maxArticleBody = 64 << 10
)

// errNoArticle answers an article id that names no article.
var errNoArticle = newsletter.Errorf(newsletter.ENOTFOUND, "There is no article with this id.")

// handleListArticles answers one page of the articles, newest published
// first: ?newsletter= keeps one newsletter's, ?from= and ?to= (RFC 3339)
// bound the publication time, ?offset= and ?limit= (default 20, at most
// 100) page.
func (s *Server) handleListArticles(c *gin.Context) {
	q, err := articleQuery(c)
	if err == nil {
		q.Offset, err = queryInt(c, "offset", 0, 0, maxArticlesOffset, "offset must be a whole number, 0 or more.")
	}
	if err == nil {
		q.Limit, err = queryInt(c, "limit", defaultArticlesLimit, 1, maxArticlesLimit,
			"limit must be a whole number from 1 to "+strconv.Itoa(maxArticlesLimit)+".")
	}
	var list []articles.Article
	var total int64
	if err == nil {
		list, total, err = s.listArticles(c, q)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, gin.H{"articles": list, "total": total, "offset": q.Offset, "limit": q.Limit})
}

// articleQuery reads the filters of an article list: newsletter, from and
// to. A time is RFC 3339, or as an <input type="datetime-local"> sends it
// (2026-11-28T07:00, read in UTC); empty is no bound.
func articleQuery(c *gin.Context) (articles.Query, error) {
	var q articles.Query
	q.Newsletter = strings.TrimSpace(c.Query("newsletter"))
	var err error
	for _, b := range []struct {
		name string
		t    *time.Time
	}{{"from", &q.From}, {"to", &q.To}} {
		if *b.t, err = queryTime(c.Query(b.name)); err != nil {
			return q, newsletter.FieldError(newsletter.EINVALID, b.name,
				b.name+" must be an RFC 3339 time such as 2026-11-28T07:00:00Z.")
		}
	}
	return q, nil
}

// queryTime reads a time bound of a list; empty is the zero time.
func queryTime(raw string) (time.Time, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, datetimeLocal, datetimeLocal + ":05"} {
		if t, err := time.Parse(layout, raw); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, errors.New("not a time")
}

// listArticles lists the articles q chooses, after checking that its
// newsletter exists and, the first time, indexing articles stored before
// the index of all articles existed.
func (s *Server) listArticles(c *gin.Context, q articles.Query) ([]articles.Article, int64, error) {
	all, err := s.newsletterIDs(c)
	if err != nil {
		return nil, 0, err
	}
	if q.Newsletter != "" && !slices.Contains(all, q.Newsletter) {
		return nil, 0, newsletter.FieldError(newsletter.EUNKNOWNNEWSLETTER, "newsletter",
			"There is no newsletter "+strconv.Quote(q.Newsletter)+".")
	}
	if _, err := s.cfg.Articles.IndexExisting(c, all); err != nil {
		return nil, 0, err
	}
	return s.cfg.Articles.List(c, q)
}

// loadArticle returns the article of the path's id, or not_found.
func (s *Server) loadArticle(c *gin.Context) (*articles.Article, error) {
	a, err := s.cfg.Articles.ByID(c, pathParam(c, "id"))
	if err == nil && a == nil {
		err = errNoArticle
	}
	return a, err
}

// handleGetArticle answers one article.
func (s *Server) handleGetArticle(c *gin.Context) {
	a, err := s.loadArticle(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

// handlePutArticle replaces an article by the one in the body, with the
// fields and rules of POST /v1/articles, and answers it as stored. Without
// newsletters it stays in those it is in. A new URL gives it a new id; the URL of another
// article is 409 conflict. Digests made already keep their copy.
func (s *Server) handlePutArticle(c *gin.Context) {
	var body articleJSON
	if err := decodeJSON(c, maxArticleBody, &body); err != nil {
		s.fail(c, err)
		return
	}
	batch, err := toArticles([]articleJSON{body})
	var all []string
	if err == nil {
		all, err = s.newsletterIDs(c)
	}
	var a *articles.Article
	if err == nil {
		a, err = s.cfg.Articles.Update(c, pathParam(c, "id"), batch[0], all)
	}
	if err != nil {
		s.fail(c, unbatched(err))
		return
	}
	c.JSON(http.StatusOK, a)
}

// handleDeleteArticle deletes an article from the store and every list:
// 204. Digests made already keep their copy.
func (s *Server) handleDeleteArticle(c *gin.Context) {
	if err := s.cfg.Articles.Delete(c, pathParam(c, "id")); err != nil {
		s.fail(c, err)
		return
	}
	c.Status(http.StatusNoContent)
}

// unbatched returns err, about one article of a batch of one, naming its
// field alone: "published_at" instead of "articles[0].published_at".
func unbatched(err error) error {
	var e *newsletter.Error
	if !errors.As(err, &e) || !strings.HasPrefix(e.Field, "articles[0].") {
		return err
	}
	out := *e
	out.Field = strings.TrimPrefix(e.Field, "articles[0].")
	return &out
}
