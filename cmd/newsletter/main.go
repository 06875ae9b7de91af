// Command newsletter runs a news site's email newsletters: the HTTP API and
// pages, the background worker, or both.
//
//	newsletter [run]   HTTP API, worker and scheduler in one process
//	newsletter serve   the HTTP API only
//	newsletter worker  the worker and scheduler only
//
// Configuration comes from NEWSLETTER_* environment variables; see README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	_ "time/tzdata" // newsletters name IANA time zones; a slim image may lack them
)

func main() {
	os.Exit(run(os.Args[1:], os.Getenv, os.Stderr))
}

// run is main with its inputs as arguments, returning the exit code.
func run(args []string, getenv func(string) string, stderr io.Writer) int {
	mode := ModeAll
	if len(args) > 0 {
		mode = Mode(args[0])
	}
	if !mode.Valid() {
		fmt.Fprintf(stderr, "newsletter: unknown command %q (want run, serve or worker)\n", args[0])
		return 2
	}
	cfg, err := LoadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := NewMain(cfg, newLogger(cfg.LogFormat, stderr))
	if err := m.Run(ctx, mode); err != nil {
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		m.Close()
		return 1
	}
	<-ctx.Done()
	if err := m.Close(); err != nil && !errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		return 1
	}
	return 0
}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
