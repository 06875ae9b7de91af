package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"newsletter/subscribers"
)

// subscribersOptions are the flags of the subscribers commands.
type subscribersOptions struct {
	newsletter string
	confirmed  bool
	format     string
}

// subscribersFlags declares the flags of subscribers verb (import or
// export) on fs.
func subscribersFlags(fs *flag.FlagSet, verb string) *subscribersOptions {
	o := &subscribersOptions{}
	if verb == "import" {
		fs.StringVar(&o.newsletter, "newsletter", "", "the newsletter `ID` of rows without a newsletters column")
		fs.BoolVar(&o.confirmed, "confirmed", false, "the list consented elsewhere: rows without a status become confirmed and get digests; without it they stay pending and get no email at all")
		return o
	}
	fs.StringVar(&o.newsletter, "newsletter", "", "export only the subscribers of newsletter `ID`")
	fs.StringVar(&o.format, "format", "csv", "output `FORMAT`: csv (one row per subscription) or json (JSON Lines, one subscriber a line)")
	return o
}

// runSubscribers runs the subscribers subcommands against Redis directly.
func runSubscribers(ctx context.Context, args []string, cfg Config, stdout, stderr io.Writer) int {
	if !isVerb(args, "import", "export") {
		return usageError(stderr, "subscribers", "subscribers wants import or export")
	}
	verb, fs := args[0], newFlagSet("subscribers "+args[0], stderr)
	opts := subscribersFlags(fs, verb)
	files, err := parseArgs(fs, args[1:])
	if err != nil {
		return 2
	}
	switch {
	case verb == "import" && len(files) != 1:
		return usageError(stderr, "subscribers import", "subscribers import wants one FILE.csv, got %d arguments", len(files))
	case verb == "export" && len(files) != 0:
		return usageError(stderr, "subscribers export", "subscribers export takes no arguments (it writes to stdout), got %q", files)
	case verb == "export" && opts.format != string(subscribers.ExportCSV) && opts.format != string(subscribers.ExportJSON):
		return usageError(stderr, "subscribers export", "--format is csv or json, not %q", opts.format)
	}
	if !needsRedis("subscribers", cfg, stderr) {
		return 2
	}
	rdb, err := openRedis(ctx, cfg)
	if err != nil {
		printError(stderr, err)
		return 1
	}
	defer rdb.Close()
	svc := subscribers.NewService(subscribers.NewStore(rdb), nil, nil)
	if opts.newsletter != "" {
		if err := checkNewsletter(ctx, svc, opts.newsletter); err != nil {
			printError(stderr, err)
			return 1
		}
	}
	if verb == "import" {
		return importFile(ctx, svc, files[0], opts, cfg, stdout, stderr)
	}
	return exportAll(ctx, svc, opts.newsletter, opts.format, stdout, stderr)
}

func importFile(ctx context.Context, svc *subscribers.Service, file string, opts *subscribersOptions, cfg Config, stdout, stderr io.Writer) int {
	raw, err := os.ReadFile(file)
	if err != nil {
		printError(stderr, err)
		return 1
	}
	if !opts.confirmed {
		fmt.Fprintf(stderr, "newsletter: without --confirmed, rows without a status are imported as pending: "+
			"they get no email (no confirmation, no digest), and the hourly purge deletes them after NEWSLETTER_UNCONFIRMED_TTL (%s); "+
			"import with --confirmed if they consented elsewhere\n", cfg.UnconfirmedTTL)
	}
	bar, read := newProgress(stderr, csvRows(raw)), int64(0)
	res, err := svc.Import(ctx, bytes.NewReader(raw), subscribers.ImportOptions{Newsletter: opts.newsletter, Confirmed: opts.confirmed,
		Progress: func(rows int) { read = int64(rows); bar.draw(read, time.Now()) }})
	if err == nil && read != bar.total { // lines are not rows: blank lines, quoted newlines
		bar.total = read
		bar.draw(read, time.Now())
	}
	if bar.width > 0 {
		fmt.Fprintln(stderr)
	}
	if err != nil {
		printError(stderr, err)
		return 1
	}
	out, _ := json.MarshalIndent(res, "", "  ")
	fmt.Fprintln(stdout, string(out))
	return 0
}

// csvRows counts the rows of a CSV file after its header, for the progress
// bar: its lines, the last one with or without a newline.
func csvRows(raw []byte) int64 {
	lines := bytes.Count(raw, []byte("\n"))
	if len(raw) > 0 && raw[len(raw)-1] != '\n' {
		lines++
	}
	return int64(max(lines-1, 0))
}

func exportAll(ctx context.Context, svc *subscribers.Service, nl, format string, stdout, stderr io.Writer) int {
	w := bufio.NewWriter(stdout)
	var bar *progress
	err := svc.Export(ctx, w, nl, subscribers.ExportFormat(format), func(done, total int64) {
		if bar == nil {
			bar = newProgress(stderr, total)
		}
		bar.draw(done, time.Now())
	})
	if bar != nil {
		fmt.Fprintln(stderr)
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		printError(stderr, err)
		return 1
	}
	return 0
}
