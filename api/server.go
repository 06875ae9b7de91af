// Package api owns the HTTP side of the service: the Gin engine, its
// middleware, the one place that maps errors to statuses, and one file per
// resource. It renders pages for readers and JSON for programs.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"net/netip"
	"net/url"
	"newsletter"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter/articles"
	"newsletter/digests"
	"newsletter/metrics"
	"newsletter/subscribers"
	"newsletter/templates"
	"newsletter/throttle"
)

// Config is what the HTTP server needs.
type Config struct {
	Subscribers *subscribers.Service
	Newsletters newsletter.NewsletterService
	Articles    *articles.Store
	Digests     *digests.Service
	BaseURL     string // public URL of the service, for links in pages
	Templates   *templates.Set
	APITokens   []string      // bearer tokens for the editor API
	ConfirmTTL  time.Duration // told to readers on the thank-you page
	Logger      *slog.Logger
	Metrics     *metrics.Metrics // served at /metrics to editors (bearer token); nil: none
	// MetricsElsewhere leaves /metrics off this router: another listener
	// (NEWSLETTER_METRICS_ADDR) serves it.
	MetricsElsewhere bool
	// TrustedProxies are the networks whose X-Forwarded-For names the
	// client; none by default, so clients cannot choose their own IP.
	TrustedProxies []netip.Prefix
	// AllowedOrigins are the origins (https://www.example.org) whose pages
	// may call POST /v1/subscriptions from scripts (CORS); none by default.
	AllowedOrigins []string
	// SignupLimit limits signups per client IP (per /64 for IPv6); nil:
	// unlimited.
	SignupLimit *throttle.Window
	// SignupNetworkLimit limits signups per IPv6 /48, at ten times the
	// per-client rate as a rule; nil: none.
	SignupNetworkLimit *throttle.Window
	// AuthFailureLimit limits requests with a missing or wrong editor token
	// per client IP; past it they answer 429. nil: no limit.
	AuthFailureLimit *throttle.Window
	// RequestTimeout is the longest a request may take once its headers are
	// read; past it the answer is 503 "timeout". 0: no limit.
	RequestTimeout time.Duration
	// SessionKey signs the session cookies of the editor pages; every
	// process serving one site needs the same key. Empty: a random key, so
	// sessions end with the process.
	SessionKey []byte
	// QueueUI is the queue monitor, served under QueueUIPath to signed-in
	// editors; nil: none.
	QueueUI http.Handler
	// Ready reports whether the service can write to Redis now, for
	// /readyz; a *ReadinessError gives the reason answered. nil: whether
	// Redis answers a PING.
	Ready func(context.Context) error
	// PostalAddress is the service's postal address that digest previews
	// print, as digests do, for newsletters without their own.
	PostalAddress string
	// Webhooks configures the email providers' bounce and complaint
	// webhooks (webhooks.go); the zero value turns them all off (404).
	Webhooks Webhooks
	// Links checks the signed click links and open pixels of digests
	// (/r/..., /o/...); nil: every such link answers 400.
	Links *digests.Links
	// CountLimit limits the clicks and opens counted per client IP (per
	// /64 for IPv6); past it the links still work, uncounted. nil: no limit.
	CountLimit *throttle.Window
}

// Server serves the public pages, the subscribe API and the editor API.
type Server struct {
	cfg     Config
	engine  *gin.Engine
	log     *slog.Logger
	origins origins
	// sessions signs the editor pages' cookies; queuePolicy is the content
	// policy of the queue monitor.
	sessions    *sessions
	queuePolicy string
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	// Route on the escaped path, so an address may hold an escaped "/", and
	// unescape parameters in pathParam: Gin would unescape them as a query,
	// turning the "+" of "news+a%2Fb@example.org" into a space.
	e.UseEscapedPath = true
	e.UnescapePathValues = false
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	if err := e.SetTrustedProxies(prefixStrings(cfg.TrustedProxies)); err != nil {
		panic("api: trusted proxies: " + err.Error()) // valid prefixes always parse
	}
	s := &Server{cfg: cfg, engine: e, log: cfg.Logger, origins: newOrigins(cfg.AllowedOrigins),
		sessions: newSessions(cfg.SessionKey, cfg.APITokens), queuePolicy: queueUIPolicy(cfg.QueueUI)}
	e.Use(s.logRequests, s.recoverPanics)
	e.NoRoute(s.handleNotFound)
	e.NoMethod(s.handleMethodNotAllowed)
	s.routes()
	return s
}

func (s *Server) routes() {
	e := s.engine
	e.GET("/", s.handleDemo)
	e.GET("/healthz", s.handleHealthz)
	e.GET("/readyz", s.handleReadyz)
	e.GET("/openapi.json", s.handleOpenAPI)
	e.GET("/metrics", s.metricsGate, s.requireEditor, s.handleMetrics)
	e.POST("/v1/subscriptions", s.allowOrigin, s.refuseCrossSite, s.handleSubscribe)
	e.OPTIONS("/v1/subscriptions", s.handlePreflight)
	e.GET("/confirm", s.handleConfirmPage)
	e.POST("/confirm", s.handleConfirm)
	e.GET("/unsubscribe", s.handleUnsubscribePage)
	e.POST("/unsubscribe", s.handleUnsubscribe)
	e.GET("/preferences", s.handlePreferencesPage)
	e.POST("/preferences", s.handlePreferences)
	e.GET("/preferences/data", s.handlePreferencesData)
	e.GET("/preferences/address", s.handleAddressChangePage)
	e.POST("/preferences/address", s.handleAddressChange)
	e.GET("/preferences/address/cancel", s.handleAddressCancelPage)
	e.POST("/preferences/address/cancel", s.handleAddressCancel)
	e.GET("/not-me", s.handleNotMePage)
	e.POST("/not-me", s.handleNotMe)
	e.GET("/digests/:id", s.handleWebView)
	e.GET("/newsletters", s.handleNewslettersPage)
	e.GET("/newsletters/:id", s.handleNewsletterPage)
	e.GET("/newsletters/:id/feed.xml", s.handleNewsletterFeed)
	e.GET("/embed/:id", s.handleEmbedPage)
	e.GET("/embed.js", s.handleEmbedScript)
	e.GET("/r/:digest/:article/:sig", s.handleClick)
	e.GET("/r/:digest/:article", s.handleClick) // unsigned: 400, as an altered link
	e.GET("/o/:digest/:sig", s.handleOpen)

	editor := e.Group("/v1", s.requireEditor)
	editor.PUT("/newsletters/:id", s.handlePutNewsletter)
	editor.GET("/newsletters", s.handleListNewsletters)
	editor.GET("/subscribers/:email", s.handleGetSubscriber)
	editor.DELETE("/subscribers/:email", s.handleDeleteSubscriber)
	editor.GET("/subscribers/:email/export", s.handleExportSubscriber)
	editor.POST("/subscribers/import", s.handleImportSubscribers)
	editor.POST("/articles", s.handlePostArticles)
	editor.GET("/articles", s.handleListArticles)
	editor.GET("/articles/:id", s.handleGetArticle)
	editor.PUT("/articles/:id", s.handlePutArticle)
	editor.DELETE("/articles/:id", s.handleDeleteArticle)
	editor.POST("/newsletters/:id/digests", s.handleCreateDigest)
	editor.GET("/newsletters/:id/digests", s.handleDigestHistory)
	editor.GET("/newsletters/:id/digests/preview", s.handlePreviewDigest)
	editor.GET("/newsletters/:id/digests/draft", s.handleDigestDraft)
	editor.GET("/digests/:id", s.handleGetDigest)
	editor.POST("/digests/:id/cancel", s.handleCancelDigest)
	editor.GET("/suppressions", s.handleListSuppressions)
	editor.DELETE("/suppressions/:email", s.handleDeleteSuppression)
	editor.POST("/webhooks/bounces", s.handleBounceWebhook)
	s.webhookRoutes() // providers' webhooks: signed, not behind the editor token

	s.adminRoutes()
}

func prefixStrings(prefixes []netip.Prefix) []string {
	var list []string
	for _, p := range prefixes {
		if p.IsValid() {
			list = append(list, p.String())
		}
	}
	return list
}

// pathParam returns the path parameter name, unescaped as a path segment.
func pathParam(c *gin.Context, name string) string {
	raw := c.Param(name)
	if v, err := url.PathUnescape(raw); err == nil {
		return v
	}
	return raw
}

// headRequest marks in a request's context that it came as HEAD.
type headRequest struct{}

// methodOf is the method a request came with: HEAD for one routed as GET.
func methodOf(r *http.Request) string {
	if head, _ := r.Context().Value(headRequest{}).(bool); head {
		return http.MethodHead
	}
	return r.Method
}

// ServeHTTP serves one request. It gives the request an id, answered in
// X-Request-Id and carried by its context onto every log line about it,
// and sets the headers every answer carries, the timeout's too.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	setSecurityHeaders(h)
	id := newRequestID()
	h[headerRequestID] = []string{id}
	ctx := newsletter.WithRequestID(r.Context(), id)
	if r.Method == http.MethodHead {
		// HEAD is GET without the body: every GET route answers it the
		// same way (GET routes change nothing; link checkers and mail
		// scanners use HEAD). The server drops the body, as it knows the
		// request was HEAD.
		r = r.Clone(context.WithValue(ctx, headRequest{}, true))
		r.Method = http.MethodGet
		ctx = r.Context()
	}
	if s.cfg.RequestTimeout > 0 {
		serveWithTimeout(ctx, s.engine, w, r, s.cfg.RequestTimeout)
		return
	}
	s.engine.ServeHTTP(w, r.WithContext(ctx))
}

// Routes lists the method and path of every route, for documentation checks.
func (s *Server) Routes() []gin.RouteInfo { return s.engine.Routes() }
