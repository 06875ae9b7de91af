package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"newsletter/subscribers"
)

const subscribersUsage = `usage:
  newsletter subscribers import FILE.csv [--newsletter ID] [--confirmed]
  newsletter subscribers export [--newsletter ID] [--format csv|json] > FILE`

// runSubscribers runs the subscribers subcommands against Redis directly.
func runSubscribers(ctx context.Context, args []string, cfg Config, stdout, stderr io.Writer) int {
	fs, ok := commandFlags("subscribers", subscribersUsage, args, 1, cfg, stderr, "import", "export")
	if !ok {
		return 2
	}
	nl := fs.String("newsletter", "", "newsletter id")
	confirmed := fs.Bool("confirmed", false, "the list consented elsewhere: import its rows as confirmed")
	format := fs.String("format", "csv", "export format: csv or json (JSON Lines)")
	rest := args[1:]
	if args[0] == "import" && len(rest) > 0 && !strings.HasPrefix(rest[0], "-") {
		rest = append(rest[1:], rest[0]) // the file may come before the flags
	}
	if err := fs.Parse(rest); err != nil {
		return 2
	}
	rdb := redis.NewClient(cfg.Redis)
	defer rdb.Close()
	svc := subscribers.NewService(subscribers.NewStore(rdb), nil, nil)
	if args[0] == "import" {
		return importFile(ctx, svc, fs.Args(), *nl, *confirmed, stdout, stderr)
	}
	return exportAll(ctx, svc, *nl, *format, stdout, stderr)
}

func importFile(ctx context.Context, svc *subscribers.Service, files []string, nl string, confirmed bool, stdout, stderr io.Writer) int {
	if len(files) != 1 {
		fmt.Fprintln(stderr, subscribersUsage)
		return 2
	}
	raw, err := os.ReadFile(files[0])
	if err != nil {
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		return 1
	}
	bar := newProgress(stderr, int64(max(bytes.Count(raw, []byte("\n"))-1, 0)))
	res, err := svc.Import(ctx, bytes.NewReader(raw), subscribers.ImportOptions{Newsletter: nl, Confirmed: confirmed,
		Progress: func(rows int) { bar.draw(int64(rows), time.Now()) }})
	fmt.Fprintln(stderr)
	if err != nil {
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		return 1
	}
	out, _ := json.MarshalIndent(res, "", "  ")
	fmt.Fprintln(stdout, string(out))
	return 0
}

func exportAll(ctx context.Context, svc *subscribers.Service, nl, format string, stdout, stderr io.Writer) int {
	if format != string(subscribers.ExportCSV) && format != string(subscribers.ExportJSON) {
		fmt.Fprintln(stderr, "newsletter: --format is csv or json")
		return 2
	}
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
		fmt.Fprintf(stderr, "newsletter: %v\n", err)
		return 1
	}
	return 0
}
