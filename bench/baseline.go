package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"newsletter/internal/redisurl"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/redis/go-redis/v9"
)

// startBaseline runs this program again as the baseline server, a process
// of its own like `newsletter serve`.
func (e *env) startBaseline(ctx context.Context, label string) (*target, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	c, err := e.startChild(label, os.Environ(), e.self,
		"baseline-serve", "-addr", addr, "-redis", e.opt.redisURL)
	if err != nil {
		return nil, err
	}
	if err := waitHTTP(ctx, "http://"+addr+"/healthz", 10*time.Second); err != nil {
		c.stop(5 * time.Second)
		return nil, err
	}
	return &target{url: "http://" + addr + "/v1/subscriptions", server: c, stop: func() { c.stop(10 * time.Second) }}, nil
}

// baselineBody is the baseline's answer, as long as the service's.
var baselineBody = []byte(`{"status":"pending","message":"Thank you for signing up for this newsletter. We've sent you a confirmation email."}`)

// serveBaseline is the baseline: a bare Gin engine whose signup handler
// decodes the same JSON and makes one Redis round trip (a SET), on the
// same Redis topology as the service (a go-redis UniversalClient made from
// the same URL). It returns the exit code.
func serveBaseline(args []string) int {
	fs := flag.NewFlagSet("baseline-serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:0", "listen address")
	redisURL := fs.String("redis", "redis://127.0.0.1:6379/9", "Redis database")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	t, err := redisurl.Parse(*redisURL)
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline: -redis:", err)
		return 2
	}
	rdb := t.NewClient() // as the service makes its own: one node, Sentinel's master or a cluster
	defer rdb.Close()
	srv := &http.Server{Addr: *addr, Handler: baselineEngine(rdb), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != http.ErrServerClosed {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		return 1
	}
	return 0
}

func baselineEngine(rdb redis.UniversalClient) http.Handler {
	gin.SetMode(gin.ReleaseMode)
	e := gin.New()
	e.GET("/healthz", func(c *gin.Context) { c.Status(http.StatusOK) })
	e.POST("/v1/subscriptions", func(c *gin.Context) {
		var body struct {
			Email       string   `json:"email"`
			Name        string   `json:"name"`
			Newsletters []string `json:"newsletters"`
		}
		if err := json.NewDecoder(io.LimitReader(c.Request.Body, 16<<10)).Decode(&body); err != nil || body.Email == "" {
			c.AbortWithStatus(http.StatusBadRequest)
			return
		}
		if err := rdb.Set(c.Request.Context(), "bench:baseline:"+body.Email, "pending", time.Hour).Err(); err != nil {
			c.AbortWithStatus(http.StatusInternalServerError)
			return
		}
		c.Data(http.StatusAccepted, "application/json; charset=utf-8", baselineBody)
	})
	return e
}
