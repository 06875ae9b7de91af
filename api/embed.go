package api

import (
	"bytes"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter"
	"newsletter/i18n"
)

// Sign-up boxes for the site's own pages: GET /embed/{id} shows the web
// team the HTML of a box for one newsletter, and GET /embed.js is the small
// script that makes every box on a page answer in place. A box is a plain
// form that posts to POST /v1/subscriptions, so it works without the
// script; the site's origin must be in NEWSLETTER_ALLOWED_ORIGINS.

// embedScript is the script of the boxes: plain JavaScript, no framework.
//
//go:embed embed.js
var embedScript []byte

// embedScriptETag names the script's version, for revalidation.
var embedScriptETag = etagOf(embedScript)

// embedScriptCache lets browsers and proxies keep the script an hour: a
// new version reaches readers within that.
const embedScriptCache = "public, max-age=3600"

// snippetTemplate is the HTML of one sign-up box, as the site pastes it.
// Labels hold their fields and nothing has an id, so a page may hold any
// number of boxes. The honeypot field website is hidden without CSS.
var snippetTemplate = template.Must(template.New("snippet").Funcs(template.FuncMap{"t": func(l i18n.Lang, key string, args ...any) string { return l.T(key, args...) }}).Parse(`<form class="nl-signup" data-nl-signup method="post" action="{{.Action}}" accept-charset="utf-8" lang="{{.Lang}}"
 data-nl-thanks="{{t .Lang "thank_you"}}" data-nl-invalid="{{t .Lang "error.message.invalid_email"}}" data-nl-failed="{{t .Lang "embed.failed"}}"
 data-nl-mean="{{t .Lang "embed.did_you_mean" "%s"}}" data-nl-use="{{t .Lang "embed.use" "%s"}}">
<p class="nl-title"><strong>{{.Name}}</strong></p>
{{with .Description}}<p class="nl-description">{{.}}</p>
{{end}}<input type="hidden" name="newsletter" value="{{.ID}}">
<input type="hidden" name="source" value="">
<label class="nl-field">{{t .Lang "form.email_label"}} <span aria-hidden="true">*</span>
<input type="email" name="email" required autocomplete="email" placeholder="you@example.org"></label>
<label class="nl-field">{{t .Lang "embed.name_optional"}}
<input type="text" name="name" autocomplete="name"></label>
<div class="nl-hp" hidden aria-hidden="true"><label>{{t .Lang "form.leave_empty"}} <input type="text" name="website" tabindex="-1" autocomplete="off"></label></div>
<button type="submit">{{t .Lang "form.subscribe"}}</button>
<p class="nl-hint">{{t .Lang "form.required"}}</p>
</form>
<script src="{{.Script}}" defer></script>
`))

// snippetData is what snippetTemplate sees.
type snippetData struct {
	Lang                  i18n.Lang // the newsletter's: the box speaks it
	ID, Name, Description string
	Action, Script        string // absolute URLs of the service
}

// embedView is the page of one newsletter's box: the snippet to copy, and
// the same snippet as a working preview.
type embedView struct {
	Name    string
	Snippet string
	Preview template.HTML
}

// embedPage is what pages/embed.html.tmpl sees: the layout's fields and
// the box.
type embedPage struct {
	pageData
	Embed *embedView
}

// handleEmbedPage shows the HTML of a sign-up box for one public
// newsletter, to paste into the site's pages, with a preview of the box.
func (s *Server) handleEmbedPage(c *gin.Context) {
	n, err := s.publicNewsletter(c, pathParam(c, "id"))
	if err != nil {
		s.failPage(c, err)
		return
	}
	snippet, err := s.embedSnippet(n)
	if err != nil {
		s.failPage(c, err)
		return
	}
	c.Header("Content-Security-Policy", embedPagePolicy(s.cfg.BaseURL))
	s.renderEmbedPage(c, embedPage{pageData: pageData{Title: "Sign-up box for " + n.Name},
		Embed: &embedView{Name: n.Name, Snippet: snippet, Preview: template.HTML(snippet)}})
}

// embedSnippet renders the sign-up box of newsletter n, every field of it
// escaped.
func (s *Server) embedSnippet(n *newsletter.Newsletter) (string, error) {
	base := strings.TrimSuffix(s.cfg.BaseURL, "/")
	var buf bytes.Buffer
	err := snippetTemplate.Execute(&buf, snippetData{Lang: langOf(n), ID: n.ID, Name: n.Name, Description: n.Description,
		Action: base + "/v1/subscriptions", Script: base + "/embed.js"})
	return buf.String(), err
}

// renderEmbedPage renders pages/embed.html.tmpl; its preview may be kept
// as long as the newsletter pages are.
func (s *Server) renderEmbedPage(c *gin.Context, data embedPage) {
	var buf bytes.Buffer
	if err := s.cfg.Templates.RenderPage(&buf, "embed", data); err != nil {
		s.logger(c).Error("Unable to render page", "page", "embed", "error", err)
		c.AbortWithStatus(http.StatusInternalServerError)
		return
	}
	c.Header("Cache-Control", "public, max-age=300")
	c.Data(http.StatusOK, "text/html; charset=utf-8", buf.Bytes())
}

// embedPagePolicy is the content policy of the box's page: the service's
// own, but for the preview's script and its request, from this origin or
// the base URL's.
func embedPagePolicy(baseURL string) string {
	own := "'self'"
	if o := originOf(baseURL); o != "" {
		own += " " + o
	}
	return "default-src 'none'; style-src 'unsafe-inline'; img-src 'self' https: data:; script-src " + own +
		"; connect-src " + own + "; form-action " + own + "; base-uri 'none'; frame-ancestors 'none'"
}

// handleEmbedScript serves the boxes' script to any site's pages, to be
// kept an hour and revalidated by its ETag.
func (s *Server) handleEmbedScript(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Content-Type", "text/javascript; charset=utf-8")
	h.Set("Cache-Control", embedScriptCache)
	h.Set("ETag", embedScriptETag)
	h.Set("Cross-Origin-Resource-Policy", "cross-origin")
	http.ServeContent(c.Writer, c.Request, "embed.js", time.Time{}, bytes.NewReader(embedScript))
}

// etagOf is a strong entity tag of b: its SHA-256, cut to 16 hex digits.
func etagOf(b []byte) string {
	sum := sha256.Sum256(b)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}
