package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"time"
)

// runHealthcheck asks the local server's /healthz, for container health
// checks in images without curl. It exits 0 when the server answers 200.
func runHealthcheck(ctx context.Context, args []string, cfg Config, _, stderr io.Writer) int {
	if len(args) > 0 {
		return usageError(stderr, "healthcheck", "healthcheck takes no arguments, got %q", args)
	}
	_, port, err := net.SplitHostPort(cfg.HTTPAddr)
	if err != nil {
		fmt.Fprintf(stderr, "newsletter: NEWSLETTER_HTTP_ADDR: %v\n", err)
		return 2
	}
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+net.JoinHostPort("127.0.0.1", port)+"/healthz", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintf(stderr, "newsletter: healthcheck: %v\n", err)
		return 1
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "newsletter: healthcheck: %s\n", resp.Status)
		return 1
	}
	return 0
}
