package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"github.com/gin-gonic/gin"

	"newsletter"
)

// QueueUIPath is where the queue monitor is mounted: Config.QueueUI must
// serve under it.
const QueueUIPath = "/admin/queues"

// handleQueueUI serves the queue monitor (asynqmon) to a signed-in editor.
// Its pages are a script application, so they get a content policy of
// their own: scripts from this origin and the inline ones of its index,
// by hash; nothing from elsewhere.
func (s *Server) handleQueueUI(c *gin.Context) {
	if s.cfg.QueueUI == nil {
		s.handleNotFound(c)
		return
	}
	c.Header("Content-Security-Policy", s.queuePolicy)
	w := &backLinkWriter{ResponseWriter: c.Writer}
	s.cfg.QueueUI.ServeHTTP(w, c.Request)
	w.finish()
	c.Abort()
}

// backLink is the link back to the editor pages that the queue monitor's
// pages get: asynqmon has no place for one, so it floats in the empty end
// of the monitor's top bar. It is markup and style only, so the monitor's
// content policy (scripts by hash) still holds.
const backLink = `<style>.nl-back{position:fixed;top:0;right:0;z-index:1250;height:64px;display:flex;align-items:center;padding:0 1rem;` +
	`font:600 15px/1.2 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}` +
	`.nl-back a{color:#fff;background:#12355b;text-decoration:none;padding:.45rem .9rem;border-radius:4px}` +
	`.nl-back a:hover{text-decoration:underline}.nl-back a:focus{outline:2px solid #fff;outline-offset:0;box-shadow:0 0 0 4px #1a56db}</style>` +
	`<nav class="nl-back" aria-label="Editor pages"><a href="/admin">&larr; Editor pages</a></nav>`

// rootDiv is where the monitor's script application mounts: the link goes
// just before it, first in the reading order.
var rootDiv = []byte(`<div id="root"`)

// backLinkWriter passes the queue monitor's answers through, but holds an
// HTML page back to add backLink to it.
type backLinkWriter struct {
	http.ResponseWriter
	page    *bytes.Buffer // the HTML page held back; nil while passing through
	status  int           // held back until the first write
	decided bool
}

func (w *backLinkWriter) WriteHeader(status int) {
	if w.decided && w.page == nil {
		w.ResponseWriter.WriteHeader(status)
		return
	}
	w.status = status
}

func (w *backLinkWriter) Write(p []byte) (int, error) {
	if !w.decided {
		w.decide(p)
	}
	if w.page != nil {
		return w.page.Write(p)
	}
	return w.ResponseWriter.Write(p)
}

// decide holds the answer back when it is an HTML page: by its
// Content-Type, or by its first bytes when it has none (asynqmon sets none
// on its index).
func (w *backLinkWriter) decide(first []byte) {
	w.decided = true
	ct := w.Header().Get("Content-Type")
	if ct == "" {
		ct = http.DetectContentType(first)
	}
	if strings.HasPrefix(ct, "text/html") {
		w.page = &bytes.Buffer{}
		return
	}
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
}

// finish writes a page held back, with backLink before the application's
// root, and a status that no write sent yet.
func (w *backLinkWriter) finish() {
	if w.page == nil {
		if !w.decided && w.status != 0 {
			w.ResponseWriter.WriteHeader(w.status)
		}
		return
	}
	page := w.page.Bytes()
	if i := bytes.Index(page, rootDiv); i >= 0 {
		page = slices.Concat(page[:i], []byte(backLink), page[i:])
	}
	w.Header().Del("Content-Length")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if w.status != 0 {
		w.ResponseWriter.WriteHeader(w.status)
	}
	w.ResponseWriter.Write(page)
}

// sameOrigin refuses a request that changes something in the queue
// monitor when the browser says it comes from another site: by
// Sec-Fetch-Site, or by Origin where a browser sends no Sec-Fetch-Site.
// The session cookie is SameSite=Strict already; the monitor's own
// requests carry no CSRF token, so this is a second line.
func (s *Server) sameOrigin(c *gin.Context) {
	if c.Request.Method == http.MethodGet || c.Request.Method == http.MethodHead {
		return
	}
	ok := true
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" {
		ok = site == "same-origin"
	} else if origin := c.GetHeader("Origin"); origin != "" {
		u, err := url.Parse(origin)
		ok = err == nil && u.Host == c.Request.Host
	}
	if !ok {
		c.AbortWithStatusJSON(http.StatusForbidden, errorBody{Error: errOtherSite})
	}
}

var errOtherSite = newsletter.Errorf(newsletter.EFORBIDDEN, "Requests from other sites are refused.")

// queueUIPolicy returns the content policy of the queue monitor: it
// renders the monitor's index once to hash its inline scripts.
func queueUIPolicy(h http.Handler) string {
	scripts := "'self'"
	if h != nil {
		for _, hash := range inlineScriptHashes(h) {
			scripts += " '" + hash + "'"
		}
	}
	return "default-src 'none'; script-src " + scripts + "; style-src 'self' 'unsafe-inline'; img-src 'self' data:; " +
		"font-src 'self' data:; connect-src 'self'; manifest-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
}

var inlineScript = regexp.MustCompile(`(?s)<script>(.*?)</script>`)

// inlineScriptHashes returns the CSP hashes of the inline scripts of the
// index page of h.
func inlineScriptHashes(h http.Handler) []string {
	req, err := http.NewRequest(http.MethodGet, QueueUIPath+"/", nil)
	if err != nil {
		return nil
	}
	w := &bufferWriter{header: http.Header{}}
	h.ServeHTTP(w, req)
	var out []string
	for _, m := range inlineScript.FindAllSubmatch(w.body.Bytes(), -1) {
		sum := sha256.Sum256(m[1])
		out = append(out, "sha256-"+base64.StdEncoding.EncodeToString(sum[:]))
	}
	return out
}

// bufferWriter is a ResponseWriter that keeps the body.
type bufferWriter struct {
	header http.Header
	body   bytes.Buffer
}

func (w *bufferWriter) Header() http.Header         { return w.header }
func (w *bufferWriter) Write(p []byte) (int, error) { return w.body.Write(p) }
func (w *bufferWriter) WriteHeader(int)             {}
