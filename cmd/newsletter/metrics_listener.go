package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"
)

// metricsListener serves /metrics alone on an address of its own
// (NEWSLETTER_METRICS_ADDR), for a scraper on a private network: no token,
// and nothing else on it.
type metricsListener struct {
	ln     net.Listener
	srv    *http.Server
	served chan error
}

// serveMetrics starts serving h at /metrics on addr.
func serveMetrics(addr string, h http.Handler, logger *slog.Logger) (*metricsListener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, &ConfigError{"NEWSLETTER_METRICS_ADDR", err.Error()}
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", h)
	l := &metricsListener{ln: ln, served: make(chan error, 1), srv: &http.Server{Handler: mux,
		ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 15 * time.Second, WriteTimeout: 30 * time.Second,
		IdleTimeout: 60 * time.Second, ErrorLog: slog.NewLogLogger(logger.Handler(), slog.LevelWarn)}}
	go func() { l.served <- l.srv.Serve(ln) }()
	logger.Info("Metrics listening", "addr", ln.Addr().String())
	return l, nil
}

// close stops the listener.
func (l *metricsListener) close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := l.srv.Shutdown(ctx)
	if serr := <-l.served; !errors.Is(serr, http.ErrServerClosed) {
		err = errors.Join(err, serr)
	}
	return err
}

// MetricsAddr returns the address of the metrics listener, "" when there
// is none.
func (m *Main) MetricsAddr() string {
	if m.metricsLn == nil {
		return ""
	}
	return m.metricsLn.ln.Addr().String()
}
