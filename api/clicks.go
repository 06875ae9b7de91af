package api

import (
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/digests"
)

// errBadLink answers a click or open link that is unsigned, altered or
// names nothing the service sent: never a redirect.
var errBadLink = newsletter.Errorf(newsletter.EBADREQUEST,
	"This link is not valid. It may have been changed or cut short: please use the link from the email itself.")

// openPixel is the open pixel: a transparent 1×1 GIF.
var openPixel = []byte("GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\x00\x00\x00!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;")

// handleClick redirects a reader who follows a digest's link to the
// article as the digest carries it, and counts the click without naming
// the reader (digests.Store.CountClick). HEAD answers the same, uncounted.
func (s *Server) handleClick(c *gin.Context) {
	id, article := pathParam(c, "digest"), pathParam(c, "article")
	if s.cfg.Links == nil || s.cfg.Digests == nil || !s.cfg.Links.ValidClick(id, article, c.Param("sig")) {
		s.badLink(c, "")
		return
	}
	now := time.Now()
	l, err := s.cfg.Digests.Store.Linked(c, id, now)
	if err != nil {
		e := s.coded(c, err)
		s.errorPage(c, statusFor(e.Code), e)
		return
	}
	target, ok := "", false
	if l != nil {
		target, ok = l.ArticleURL(article)
	}
	if !ok || !webURL(target) {
		s.badLink(c, "")
		return
	}
	if counts(c) {
		out, err := s.limitCount(c)
		if err == nil && out == "" {
			out, err = s.cfg.Digests.Store.CountClick(c, id, article, l, visitorOf(c), now)
		}
		s.counted(c, "click", l.Newsletter, out, err)
	}
	noStore(c)
	c.Redirect(http.StatusFound, target)
}

// handleOpen answers a digest's open pixel and counts the open, the same
// aggregate way as a click. HEAD answers the same, uncounted.
func (s *Server) handleOpen(c *gin.Context) {
	id := pathParam(c, "digest")
	if s.cfg.Links == nil || s.cfg.Digests == nil || !s.cfg.Links.ValidOpen(id, c.Param("sig")) {
		s.badLink(c, "open")
		return
	}
	now := time.Now()
	if counts(c) {
		l, err := s.cfg.Digests.Store.Linked(c, id, now)
		if l != nil && err == nil {
			var out digests.CountOutcome
			if out, err = s.limitCount(c); err == nil && out == "" {
				out, err = s.cfg.Digests.Store.CountOpen(c, id, l, visitorOf(c), now)
			}
			s.counted(c, "open", l.Newsletter, out, err)
		} else if err != nil {
			s.logger(c).Warn("Unable to count an open", "digest_id", id, "error", err)
		}
	}
	noStore(c)
	c.Data(http.StatusOK, "image/gif", openPixel)
}

// badLink answers a link that is not valid with a small page (400), and
// counts it among the kind's invalid links.
func (s *Server) badLink(c *gin.Context, kind string) {
	if kind == "open" {
		s.cfg.Metrics.ObserveOpen("", "invalid")
	} else {
		s.cfg.Metrics.ObserveClick("", "invalid")
	}
	s.errorPage(c, http.StatusBadRequest, errBadLink)
}

// limitCount takes one event of the client's rate of counted clicks and
// opens (CountLimit), and answers digests.CountLimited when the client is
// past it: its request still redirects or answers the pixel, uncounted.
// It answers "" when the request may count.
func (s *Server) limitCount(c *gin.Context) (digests.CountOutcome, error) {
	if s.cfg.CountLimit == nil {
		return "", nil
	}
	wait, err := s.take(c, s.cfg.CountLimit)
	if err != nil || wait == 0 {
		return "", err
	}
	return digests.CountLimited, nil
}

// counted logs a failure to count (the reader still gets the article) and
// adds the outcome to the metrics.
func (s *Server) counted(c *gin.Context, kind, nl string, out digests.CountOutcome, err error) {
	if err != nil {
		s.logger(c).Warn("Unable to count a "+kind, "newsletter", nl, "error", err)
		return
	}
	if kind == "open" {
		s.cfg.Metrics.ObserveOpen(nl, string(out))
		return
	}
	s.cfg.Metrics.ObserveClick(nl, string(out))
}

// counts reports whether a request may count as a click or open: not a
// HEAD, and not a browser's prefetch (Sec-Purpose, Purpose or X-Moz
// "prefetch"), which fetches links nobody followed.
func counts(c *gin.Context) bool {
	if methodOf(c.Request) == http.MethodHead {
		return false
	}
	for _, h := range []string{"Sec-Purpose", "Purpose", "X-Moz", "X-Purpose"} {
		if strings.Contains(strings.ToLower(c.GetHeader(h)), "prefetch") || strings.EqualFold(c.GetHeader(h), "preview") {
			return false
		}
	}
	return true
}

// visitorOf is who sent the request, for counting only.
func visitorOf(c *gin.Context) digests.Visitor {
	return digests.Visitor{IP: c.ClientIP(), UserAgent: c.Request.UserAgent()}
}

// noStore keeps caches and proxies from keeping the answer, so that every
// click reaches the service and no cache serves one reader's redirect.
func noStore(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	c.Header("Referrer-Policy", "no-referrer")
	c.Header("X-Robots-Tag", "noindex, nofollow")
}

// webURL reports whether u is an http or https URL, the only kind an
// article has: the redirect never leads anywhere else.
func webURL(u string) bool {
	return strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://")
}
