package api

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"regexp"

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
	s.cfg.QueueUI.ServeHTTP(c.Writer, c.Request)
	c.Abort()
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
