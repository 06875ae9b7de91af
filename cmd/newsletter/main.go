// Command newsletter runs a news site's email newsletters: the HTTP API and
// pages, the background worker, or both.
//
//	newsletter [run]   HTTP API, worker and scheduler in one process
//	newsletter serve   the HTTP API only
//	newsletter worker  the worker and scheduler only
//	newsletter digest send NEWSLETTER [--wait]   create and send a digest
//	newsletter digest status ID [--wait]         show a digest's progress
//	newsletter subscribers import FILE.csv [--newsletter ID] [--confirmed]
//	newsletter subscribers export [--newsletter ID] [--format csv|json]
//	newsletter healthcheck                       exit 0 if the local server is healthy
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
	_ "time/tzdata"

	"github.com/redis/go-redis/v9" // newsletters name IANA time zones; a slim image may lack them
)

func main() {
	redis.SetLogger(quietRedis{}) // its own dial errors reach us as errors; no second report
	os.Exit(run(os.Args[1:], os.Getenv, os.Stdout, os.Stderr))
}

// run is main with its inputs as arguments, returning the exit code.
func run(args []string, getenv func(string) string, stdout, stderr io.Writer) int {
	if len(args) > 0 && args[0] == "digest" {
		return runCommand(args[1:], getenv, stdout, stderr, runDigest)
	}
	if len(args) > 0 && args[0] == "subscribers" {
		return runCommand(args[1:], getenv, stdout, stderr, runSubscribers)
	}
	if len(args) > 0 && args[0] == "healthcheck" {
		return runCommand(args[1:], getenv, stdout, stderr, runHealthcheck)
	}
	mode := ModeAll
	if len(args) > 0 {
		mode = Mode(args[0])
	}
	if !mode.Valid() {
		fmt.Fprintf(stderr, "newsletter: unknown command %q (want run, serve, worker, digest, subscribers or healthcheck)\n", args[0])
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

// runCommand runs a one-shot subcommand with the configuration, stopping
// on SIGINT or SIGTERM.
func runCommand(args []string, getenv func(string) string, stdout, stderr io.Writer,
	cmd func(context.Context, []string, Config, io.Writer, io.Writer) int) int {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cmd(ctx, args, cfg, stdout, stderr)
}

// quietRedis drops go-redis's own log lines.
type quietRedis struct{}

func (quietRedis) Printf(context.Context, string, ...any) {}

func newLogger(format string, w io.Writer) *slog.Logger {
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}
