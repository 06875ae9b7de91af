package api

import (
	"net/http"
	"net/url"

	"github.com/gin-gonic/gin"
)

// adminView is what every editor page sees; Data holds the page's own.
type adminView struct {
	Title    string
	CSRF     string // the CSRF token of every form on the page
	SignedIn bool
	Notice   string // what the last action did
	Error    string
	Refresh  int // seconds until the page reloads itself; 0: never
	Back     string
	Data     any
}

// notices are the messages an action leaves for the page it redirects to,
// named by ?done= so that no text from a request reaches the page.
var notices = map[string]string{
	"created":         "The newsletter was created.",
	"saved":           "The newsletter was saved.",
	"template":        "The digest template was saved.",
	"cleared":         "The digest template was removed; its digests use the service's again.",
	"article":         "The article was added.",
	"article_saved":   "The article was saved. Digests made already keep the article as they sent it.",
	"article_deleted": "The article was deleted. Digests made already keep the article as they sent it.",
	"canceled":        "The digest was canceled.",
	"erased":          "Everything held about the address was erased.",
	"lifted":          "The address was taken off the suppression list.",
}

// adminRoutes registers the editor pages: server-rendered, plain forms,
// behind a session cookie, with a CSRF token on every form.
func (s *Server) adminRoutes() {
	e := s.engine
	if s.cfg.Templates != nil {
		e.SetHTMLTemplate(s.cfg.Templates.Admin())
	}
	e.GET("/admin/login", s.handleAdminLoginPage)
	e.POST("/admin/login", s.handleAdminLogin)

	a := e.Group("/admin", s.requireSession, s.requireCSRF)
	a.GET("", s.handleAdminIndex)
	a.POST("/logout", s.handleAdminLogout)
	a.POST("/newsletters", s.handleAdminCreateNewsletter)
	a.GET("/newsletters/:id", s.handleAdminNewsletter)
	a.POST("/newsletters/:id", s.handleAdminUpdateNewsletter)
	a.POST("/newsletters/:id/articles", s.handleAdminAddArticle)
	a.POST("/newsletters/:id/template", s.handleAdminDigestTemplate)
	a.GET("/newsletters/:id/preview", s.handleAdminPreview)
	a.POST("/newsletters/:id/test", s.handleAdminTestDigest)
	a.POST("/newsletters/:id/digests", s.handleAdminSendDigest)
	a.GET("/newsletters/:id/digests", s.handleAdminHistory)
	a.POST("/newsletters/:id/curate", s.handleAdminCurate)
	a.GET("/digests/:id", s.handleAdminDigest)
	a.POST("/digests/:id/cancel", s.handleAdminCancelDigest)
	a.GET("/articles", s.handleAdminArticles)
	a.GET("/articles/:id", s.handleAdminArticle)
	a.POST("/articles/:id", s.handleAdminUpdateArticle)
	a.POST("/articles/:id/delete", s.handleAdminDeleteArticle)
	a.GET("/subscribers", s.handleAdminSubscribers)
	a.GET("/subscribers/export", s.handleAdminExportSubscriber)
	a.POST("/subscribers/erase", s.handleAdminEraseSubscriber)
	a.GET("/suppressions", s.handleAdminSuppressions)
	a.POST("/suppressions/lift", s.handleAdminLiftSuppression)

	q := e.Group(QueueUIPath, s.requireSession, s.sameOrigin)
	for _, method := range []string{http.MethodGet, http.MethodPost, http.MethodDelete} {
		q.Handle(method, "/*path", s.handleQueueUI)
	}
}

// adminPage renders editor page name for the signed-in editor.
func (s *Server) adminPage(c *gin.Context, status int, name string, v adminView) {
	v.SignedIn = true
	v.CSRF = s.sessions.csrf(c.GetString(ctxSession))
	if v.Notice == "" {
		v.Notice = notices[c.Query("done")]
	}
	c.Header("Cache-Control", "no-store")
	c.HTML(status, name, v)
	c.Abort()
}

// adminMessage shows a short message with a link onwards.
func (s *Server) adminMessage(c *gin.Context, status int, title, msg, back string) {
	_, signedIn := c.Get(ctxSession)
	v := adminView{Title: title, Error: msg, Back: back, SignedIn: signedIn}
	if signedIn {
		v.CSRF = s.sessions.csrf(c.GetString(ctxSession))
	}
	c.Header("Cache-Control", "no-store")
	c.HTML(status, "error", v)
	c.Abort()
}

// adminFail shows err to an editor, with a link back to the page the
// action came from. Uncoded errors are logged and shown as "Internal error.".
func (s *Server) adminFail(c *gin.Context, err error, back string) {
	e := s.coded(c, err)
	s.adminMessage(c, statusFor(e.Code), "Something went wrong", e.Message, back)
}

// seeOther redirects, after a form, to path with ?done=notice.
func seeOther(c *gin.Context, path, notice string) {
	if notice != "" {
		path += "?done=" + url.QueryEscape(notice)
	}
	c.Redirect(http.StatusSeeOther, path)
}

// adminPath returns the editor page path of a newsletter or digest id.
func adminPath(kind, id string) string { return "/admin/" + kind + "/" + url.PathEscape(id) }
