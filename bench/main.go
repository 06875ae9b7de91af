// Command bench measures the newsletter service on this machine: digest
// fan-out against an SMTP sink in another process (bench/sink), the raw
// SMTP limit of that sink over the same number of connections (one command
// at a time, and pipelined as the service does), the subscribe API under
// fixed-rate load and in a closed loop beside a bare Gin+Redis baseline,
// and confirmation latency during a digest. It prints markdown tables and
// writes the figures as JSON. bench/run builds and starts the sink first.
//
// It uses one Redis database (9 by default) and FLUSHDBs that one only,
// many times: never point it at a database that holds anything. On a Redis
// Cluster (-redis redis+cluster://host:port,...), which has only database
// 0, it FLUSHALLs every master, and runs only with -i-own-this-cluster.
//
// "bench report FILE.json ..." prints the tables of earlier results again.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	ns           []int
	connections  int
	recordEvery  int
	redisURL     string
	runs         int
	jsonPath     string
	sinkSMTP     string
	sinkHTTP     string
	bin          string
	phases       map[string]bool
	rates        []int
	loadFor      time.Duration
	probes       int
	probeEvery   time.Duration
	consent      bool
	seedVia      string
	articleBytes int
	workDir      string
	closedConns  []int
	closedFor    time.Duration
	ownCluster   bool
	seedGiven    bool // -seed was on the command line
}

// allPhases are the phases -phases may name, in the order they run.
var allPhases = []string{"fanout", "raw", "raw-pipelined", "pool", "api", "api-alone", "baseline", "api-closed", "baseline-closed"}

func main() {
	if len(os.Args) > 2 && os.Args[1] == "baseline-serve" {
		os.Exit(serveBaseline(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "report" {
		os.Exit(reportFiles(os.Args[2:]))
	}
	opt, err := parseFlags(os.Args[1:])
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, opt); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func parseFlags(args []string) (*options, error) {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	ns := fs.String("n", "10000,100000", "subscriber counts for the fan-out, comma separated")
	million := fs.Bool("million", false, "also run the fan-out with 1,000,000 subscribers")
	phases := fs.String("phases", strings.Join(allPhases, ","), "phases to run: "+strings.Join(allPhases, ","))
	rates := fs.String("rates", "500,1000,2000,3000,4000", "subscribe API load rates, requests per second")
	closed := fs.String("closed-connections", "16", "connections of the closed-loop subscribe load (api-closed, baseline-closed), comma separated: each count is run")
	o := &options{}
	fs.IntVar(&o.connections, "connections", 4, "SMTP connections: NEWSLETTER_SMTP_CONNECTIONS and the raw limit's")
	fs.IntVar(&o.recordEvery, "record-every", 1, "NEWSLETTER_RECORD_EVERY: digest outcomes a batch holds before recording them")
	fs.StringVar(&o.redisURL, "redis", "redis://127.0.0.1:6379/9", "Redis to use, as NEWSLETTER_REDIS_URL takes it: redis://host:port/db, redis+sentinel://host:port,.../master/db or redis+cluster://host:port,...; it is FLUSHed, repeatedly")
	fs.BoolVar(&o.ownCluster, "i-own-this-cluster", false, "allow a redis+cluster:// URL: every master of the cluster is FLUSHALLed, repeatedly")
	fs.DurationVar(&o.closedFor, "closed-duration", 10*time.Second, "how long each closed-loop connection count is measured (after a warm-up)")
	fs.IntVar(&o.runs, "runs", 3, "runs of everything; the table shows medians")
	fs.StringVar(&o.jsonPath, "json", "bench/out/results.json", "write the results as JSON here (empty: do not)")
	fs.StringVar(&o.sinkSMTP, "sink-smtp", "127.0.0.1:2525", "the sink's SMTP address")
	fs.StringVar(&o.sinkHTTP, "sink-http", "127.0.0.1:2526", "the sink's HTTP address")
	fs.StringVar(&o.bin, "bin", "", "a built newsletter binary (default: go build ./cmd/newsletter)")
	fs.DurationVar(&o.loadFor, "load-duration", 10*time.Second, "how long each subscribe API rate runs")
	fs.IntVar(&o.probes, "probes", 50, "signups sent during each digest to measure confirmation latency")
	fs.DurationVar(&o.probeEvery, "probe-every", 100*time.Millisecond, "spacing of those signups")
	fs.BoolVar(&o.consent, "consent", true, "also measure Redis memory with two consent records per subscriber (-seed pipeline)")
	fs.StringVar(&o.seedVia, "seed", "pipeline", "how to seed subscribers: pipeline (bench/seed.go, the key layout written directly) or import (subscribers.Service.Import)")
	fs.IntVar(&o.articleBytes, "summary-bytes", 500, "bytes of summary per article; 10 articles of 500 make about 15 KB of HTML")
	fs.StringVar(&o.workDir, "workdir", "", "where binaries and logs go (default: a new temporary folder)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	var err error
	if o.ns, err = intList(*ns); err != nil {
		return nil, fmt.Errorf("-n: %w", err)
	}
	if *million {
		o.ns = append(o.ns, 1_000_000)
	}
	if o.rates, err = intList(*rates); err != nil {
		return nil, fmt.Errorf("-rates: %w", err)
	}
	if o.closedConns, err = intList(*closed); err != nil || len(o.closedConns) == 0 {
		return nil, fmt.Errorf("-closed-connections: want counts such as 8,16,32 (%v)", err)
	}
	if o.phases, err = phaseSet(*phases); err != nil {
		return nil, err
	}
	fs.Visit(func(f *flag.Flag) { o.seedGiven = o.seedGiven || f.Name == "seed" })
	if o.seedVia != "pipeline" && o.seedVia != "import" {
		return nil, fmt.Errorf("-seed: %q is not pipeline or import", o.seedVia)
	}
	if o.runs < 1 || o.connections < 1 || o.connections > 100 {
		return nil, fmt.Errorf("-runs must be at least 1 and -connections from 1 to 100")
	}
	if slices.Max(o.closedConns) > 1024 || o.closedFor < time.Second {
		return nil, fmt.Errorf("-closed-connections must be at most 1024 and -closed-duration at least 1s")
	}
	return o, nil
}

func intList(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

func phaseSet(s string) (map[string]bool, error) {
	set := map[string]bool{}
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if !strings.Contains(","+strings.Join(allPhases, ",")+",", ","+p+",") {
			return nil, fmt.Errorf("-phases: unknown phase %q", p)
		}
		set[p] = true
	}
	return set, nil
}
