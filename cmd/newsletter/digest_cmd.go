package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"newsletter"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/articles"
	"newsletter/digests"
	"newsletter/subscribers"
	"newsletter/worker"
)

// digestOptions are the flags of the digest commands.
type digestOptions struct {
	wait    bool
	subject string
	key     string
}

// digestFlags declares the flags of digest verb (send or status) on fs.
func digestFlags(fs *flag.FlagSet, verb string) *digestOptions {
	o := &digestOptions{}
	fs.BoolVar(&o.wait, "wait", false, "show a progress bar (and the last sending error) until the digest finishes; exit 0 only if it was sent")
	if verb == "send" {
		fs.StringVar(&o.subject, "subject", "", "the message's `SUBJECT` (default: the newsletter's name and the date)")
		fs.StringVar(&o.key, "idempotency-key", "", "a `KEY` that makes a repeated send return the first digest instead of sending again")
	}
	return o
}

// runDigest runs the digest subcommands, talking to Redis directly. It
// returns the exit code.
func runDigest(ctx context.Context, args []string, cfg Config, stdout, stderr io.Writer) int {
	if !isVerb(args, "send", "status") {
		return usageError(stderr, "digest", "digest wants send or status")
	}
	verb, fs := args[0], newFlagSet("digest "+args[0], stderr)
	opts := digestFlags(fs, verb)
	pos, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	if len(pos) != 1 {
		return usageError(stderr, "digest "+verb, "digest %s wants one %s, got %d arguments", verb, commandsUnder("digest " + verb)[0].args, len(pos))
	}
	if !needsRedis("digest", cfg, stderr) {
		return 2
	}
	rdb, err := openRedis(ctx, cfg)
	if err != nil {
		printError(stderr, err)
		return 1
	}
	defer rdb.Close()
	svc, err := digestService(rdb, cfg)
	if err != nil {
		printError(stderr, err)
		return 1
	}
	d, err := getOrSend(ctx, svc, verb, pos[0], opts)
	if err != nil {
		printError(stderr, err)
		return 1
	}
	if opts.wait {
		return watchDigest(ctx, svc, d, stdout, stderr)
	}
	printDigest(stdout, stderr, d)
	return 0
}

// getOrSend creates and sends a digest of newsletter arg, or reads digest
// arg; an unknown id is named in the error.
func getOrSend(ctx context.Context, svc *digests.Service, verb, arg string, opts *digestOptions) (*digests.Digest, error) {
	if verb == "status" {
		d, err := svc.Get(ctx, arg)
		if newsletter.ErrorCode(err) == newsletter.ENOTFOUND {
			return nil, fmt.Errorf("no digest %q", arg)
		}
		return d, err
	}
	if err := checkNewsletter(ctx, svc.Readers, arg); err != nil {
		return nil, err
	}
	d, _, err := svc.Create(ctx, arg, digests.Request{Subject: opts.subject, IdempotencyKey: opts.key})
	return d, err
}

func digestService(rdb redis.UniversalClient, cfg Config) (*digests.Service, error) {
	enq, err := worker.NewEnqueuer(rdb, cfg.Secrets)
	if err != nil {
		return nil, err
	}
	store := digests.NewStore(rdb)
	store.Retention = cfg.DigestRetention
	return &digests.Service{Store: store, Articles: articles.NewStore(rdb),
		Readers: subscribers.NewStore(rdb), NormalizeAddress: subscribers.NormalizeAddress, Dispatcher: enq, Now: time.Now}, nil
}

// watchDigest redraws a progress bar, with the digest's last error, until
// d finishes, then prints it. It exits 0 only when the digest was sent.
func watchDigest(ctx context.Context, svc *digests.Service, d *digests.Digest, stdout, stderr io.Writer) int {
	bar := newProgress(stderr, d.Counts.Total)
	bar.first = d.Counts.Done()
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for !d.Status.Finished() {
		bar.note = lastErrorNote(d.LastError)
		bar.draw(d.Counts.Done(), time.Now())
		select {
		case <-ctx.Done():
			fmt.Fprintln(stderr)
			return 1
		case <-tick.C:
		}
		next, err := svc.Get(ctx, d.ID)
		if err != nil && !errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr)
			printError(stderr, err)
			return 1
		}
		if next != nil {
			d = next
		}
	}
	bar.note = ""
	bar.draw(d.Counts.Done(), time.Now())
	fmt.Fprintln(stderr)
	printDigest(stdout, stderr, d)
	if d.Status != digests.StatusSent {
		return 1
	}
	return 0
}

// noteWidth is how much of a last error the progress line shows.
const noteWidth = 100

// lastErrorNote returns what the progress line shows after the bar about
// p: "— last error: " and its message on one line, cut to noteWidth in
// the middle, for a wrapped error names its cause last.
func lastErrorNote(p *digests.Problem) string {
	if p == nil {
		return ""
	}
	msg := strings.Join(strings.Fields(p.Message), " ")
	if r := []rune(msg); len(r) > noteWidth {
		head := noteWidth / 3
		msg = string(r[:head]) + "…" + string(r[len(r)-(noteWidth-head-1):])
	}
	return "— last error: " + msg
}

// printDigest prints d as JSON on stdout and, when it has one, its last
// error as a line of its own on stderr.
func printDigest(stdout, stderr io.Writer, d *digests.Digest) {
	out, _ := json.MarshalIndent(struct {
		ID         string           `json:"id"`
		Newsletter string           `json:"newsletter"`
		Status     digests.Status   `json:"status"`
		Subject    string           `json:"subject"`
		Articles   int              `json:"articles"`
		Counts     digests.Counts   `json:"counts"`
		LastError  *digests.Problem `json:"last_error,omitempty"`
	}{d.ID, d.Newsletter, d.Status, d.Subject, len(d.Articles), d.Counts, d.LastError}, "", "  ")
	fmt.Fprintln(stdout, string(out))
	if p := d.LastError; p != nil {
		fmt.Fprintf(stderr, "last error: %s (at %s)\n", p.Message, p.At.Local().Format(time.RFC3339))
	}
}

// needsRedis reports whether the service's Redis is configured for the
// one-shot command name, saying on stderr why not.
func needsRedis(name string, cfg Config, stderr io.Writer) bool {
	if cfg.DevMode() {
		fmt.Fprintf(stderr, "newsletter: NEWSLETTER_REDIS_URL: %s commands need the service's Redis; dev mode keeps nothing\n", name)
		return false
	}
	return true
}
