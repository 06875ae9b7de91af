package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
	"newsletter/digests"
	"newsletter/subscribers"
	"newsletter/worker"
)

const digestUsage = `usage:
  newsletter digest send NEWSLETTER [--wait] [--subject S] [--idempotency-key K]
  newsletter digest status ID [--wait]`

// runDigest runs the digest subcommands, talking to Redis directly. It
// returns the exit code.
func runDigest(ctx context.Context, args []string, cfg Config, stdout, stderr io.Writer) int {
	fs, ok := commandFlags("digest", digestUsage, args, 2, cfg, stderr, "send", "status")
	if !ok {
		return 2
	}
	wait := fs.Bool("wait", false, "show progress until the digest finishes")
	subject := fs.String("subject", "", "subject (default: the newsletter's name and date)")
	key := fs.String("idempotency-key", "", "make a repeated send return the first digest")
	if fs.Parse(args[2:]) != nil {
		return 2
	}
	rdb := redis.NewClient(cfg.Redis)
	defer rdb.Close()
	svc, err := digestService(rdb, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		return 1
	}
	var d *digests.Digest
	if args[0] == "send" {
		d, _, err = svc.Create(ctx, args[1], digests.Request{Subject: *subject, IdempotencyKey: *key})
	} else {
		d, err = svc.Get(ctx, args[1])
	}
	if err != nil {
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		return 1
	}
	if *wait {
		return watchDigest(ctx, svc, d, stdout, stderr)
	}
	printDigest(stdout, d)
	return 0
}

func digestService(rdb *redis.Client, cfg Config) (*digests.Service, error) {
	enq, err := worker.NewEnqueuer(rdb, cfg.Secrets)
	if err != nil {
		return nil, err
	}
	return &digests.Service{Store: digests.NewStore(rdb), Articles: articles.NewStore(rdb),
		Readers: subscribers.NewStore(rdb), NormalizeAddress: subscribers.NormalizeAddress, Dispatcher: enq, Now: time.Now}, nil
}

// watchDigest redraws a progress bar until d finishes, then prints it. It
// exits 0 only when the digest was sent.
func watchDigest(ctx context.Context, svc *digests.Service, d *digests.Digest, stdout, stderr io.Writer) int {
	bar := newProgress(stderr, d.Counts.Total)
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !d.Status.Finished() {
		bar.draw(d.Counts.Done(), time.Now())
		select {
		case <-ctx.Done():
			fmt.Fprintln(stderr)
			return 1
		case <-tick.C:
		}
		next, err := svc.Get(ctx, d.ID)
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintf(stderr, "\nnewsletter: %v\n", err)
			return 1
		}
		d = next
	}
	bar.draw(d.Counts.Done(), time.Now())
	fmt.Fprintln(stderr)
	printDigest(stdout, d)
	if d.Status != digests.StatusSent {
		return 1
	}
	return 0
}

func printDigest(w io.Writer, d *digests.Digest) {
	out, _ := json.MarshalIndent(struct {
		ID         string         `json:"id"`
		Newsletter string         `json:"newsletter"`
		Status     digests.Status `json:"status"`
		Subject    string         `json:"subject"`
		Articles   int            `json:"articles"`
		Counts     digests.Counts `json:"counts"`
	}{d.ID, d.Newsletter, d.Status, d.Subject, len(d.Articles), d.Counts}, "", "  ")
	fmt.Fprintln(w, string(out))
}

// commandFlags checks a one-shot command's arguments (at least min, the
// first one of verbs) and that it has a Redis to talk to, and returns a
// flag set for its options; ok is false after it printed why not.
func commandFlags(name, usage string, args []string, min int, cfg Config, stderr io.Writer, verbs ...string) (*flag.FlagSet, bool) {
	if len(args) < min || !slices.Contains(verbs, args[0]) {
		fmt.Fprintln(stderr, usage)
		return nil, false
	}
	if cfg.DevMode() {
		fmt.Fprintf(stderr, "newsletter: NEWSLETTER_REDIS_URL: %s commands need the service's Redis; dev mode keeps nothing\n", name)
		return nil, false
	}
	fs := flag.NewFlagSet(name+" "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs, true
}
