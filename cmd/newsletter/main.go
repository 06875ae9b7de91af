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
//	newsletter help [COMMAND]                    usage; so do -h and --help after any command
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
	"strings"
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
	if topic, ok := helpTopic(args); ok {
		return help(topic, stdout, stderr)
	}
	name := string(ModeAll)
	if len(args) > 0 {
		name = args[0]
	}
	switch name {
	case "digest":
		return runCommand(args[1:], getenv, stdout, stderr, runDigest)
	case "subscribers":
		return runCommand(args[1:], getenv, stdout, stderr, runSubscribers)
	case "healthcheck":
		return runCommand(args[1:], getenv, stdout, stderr, runHealthcheck)
	}
	mode := Mode(name)
	if !mode.Valid() {
		return unknownCommand(name, stderr)
	}
	if len(args) > 1 {
		return usageError(stderr, name, "%s takes no arguments, got %q", name, args[1:])
	}
	return runService(mode, getenv, stderr)
}

// runService runs the parts of the service that mode names until SIGINT
// or SIGTERM, returning the exit code.
func runService(mode Mode, getenv func(string) string, stderr io.Writer) int {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		printError(stderr, err)
		return 2
	}
	tuneGC(mode, getenv)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logs := newLogBuffer(stderr)
	defer logs.Close()
	m := NewMain(cfg, newLogger(cfg.LogFormat, logs))
	if err := m.Run(ctx, mode); err != nil {
		m.Close()
		logs.Flush()
		printError(stderr, err)
		return 1
	}
	<-ctx.Done()
	if err := m.Close(); err != nil && !errors.Is(err, context.Canceled) {
		logs.Flush()
		printError(stderr, err)
		return 1
	}
	return 0
}

// printError prints err on stderr, each of its lines after "newsletter: ",
// so that a configuration error names one variable a line.
func printError(stderr io.Writer, err error) {
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintf(stderr, "newsletter: %s\n", line)
	}
}

// runCommand runs a one-shot subcommand with the configuration, stopping
// on SIGINT or SIGTERM.
func runCommand(args []string, getenv func(string) string, stdout, stderr io.Writer,
	cmd func(context.Context, []string, Config, io.Writer, io.Writer) int) int {
	cfg, err := LoadConfig(getenv)
	if err != nil {
		printError(stderr, err)
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
