// Package api owns the HTTP side of the service: the Gin engine, its
// middleware, the one place that maps errors to statuses, and one file per
// resource. It renders pages for readers and JSON for programs.
package api

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"newsletter/subscribers"
	"newsletter/templates"
)

// Config is what the HTTP server needs.
type Config struct {
	Subscribers *subscribers.Service
	Store       *subscribers.Store
	Templates   *templates.Set
	APITokens   []string      // bearer tokens for the editor API
	ConfirmTTL  time.Duration // told to readers on the thank-you page
	Logger      *slog.Logger
}

// Server serves the public pages, the subscribe API and the editor API.
type Server struct {
	cfg    Config
	engine *gin.Engine
	log    *slog.Logger
}

// New returns a Server with every route registered.
func New(cfg Config) *Server {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.UseRawPath = true // an address may hold an escaped "/"
	e.UnescapePathValues = true
	e.HandleMethodNotAllowed = true
	e.ContextWithFallback = true
	s := &Server{cfg: cfg, engine: e, log: cfg.Logger}
	e.Use(s.requestID, s.logRequests, s.recoverPanics, securityHeaders)
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
	e.POST("/v1/subscriptions", s.handleSubscribe)
	e.GET("/confirm", s.handleConfirmPage)
	e.POST("/confirm", s.handleConfirm)

	editor := e.Group("/v1", s.requireEditor)
	editor.PUT("/newsletters/:id", s.handlePutNewsletter)
	editor.GET("/newsletters", s.handleListNewsletters)
	editor.GET("/subscribers/:email", s.handleGetSubscriber)
	editor.DELETE("/subscribers/:email", s.handleDeleteSubscriber)
}

// ServeHTTP serves one request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.engine.ServeHTTP(w, r)
}

// Routes lists the method and path of every route, for documentation checks.
func (s *Server) Routes() []gin.RouteInfo { return s.engine.Routes() }
