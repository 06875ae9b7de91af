package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"github.com/redis/go-redis/v9"
)

// env is what every phase shares.
type env struct {
	opt   *options
	topo  *topology
	rdb   redis.UniversalClient // topo.rdb
	sink  *sinkClient
	bin   string // the newsletter binary
	self  string // this program, re-run as the baseline server
	dir   string // logs
	cores int
}

// run runs every phase opt.runs times and reports the medians.
func run(ctx context.Context, opt *options) error {
	e, err := setup(ctx, opt)
	if err != nil {
		return err
	}
	defer e.rdb.Close()
	res := &results{Machine: describeMachine(ctx, e), Options: optionsJSON(opt), Started: time.Now().UTC()}
	for r := 1; r <= opt.runs; r++ {
		rr, err := e.oneRun(ctx, r)
		res.Runs = append(res.Runs, rr)
		if err != nil {
			res.Machine.LoadAvgAt = firstLine("/proc/loadavg")
			e.report(res)
			return fmt.Errorf("run %d: %w", r, err)
		}
	}
	res.Machine.LoadAvgAt = firstLine("/proc/loadavg")
	e.report(res)
	return nil
}

// oneRun runs each chosen phase once.
func (e *env) oneRun(ctx context.Context, r int) (*runResult, error) {
	rr := &runResult{Run: r}
	ns := e.opt.ns
	if !e.opt.phases["fanout"] && !e.opt.phases["raw"] && !e.opt.phases["raw-pipelined"] && !e.opt.phases["pool"] {
		ns = nil
	}
	for _, n := range ns {
		fr := fanoutRow{N: n}
		if e.opt.phases["fanout"] {
			logf("run %d: fan-out to %d", r, n)
			if err := e.fanout(ctx, r, n, &fr); err != nil {
				rr.Fanout = append(rr.Fanout, fr)
				return rr, err
			}
		}
		if err := e.limits(ctx, r, n, &fr); err != nil {
			rr.Fanout = append(rr.Fanout, fr)
			return rr, err
		}
		rr.Fanout = append(rr.Fanout, fr)
	}
	for _, kind := range []string{"api", "api-alone", "baseline"} {
		if !e.opt.phases[kind] {
			continue
		}
		logf("run %d: %s load at %v/s", r, kind, e.opt.rates)
		rows, err := e.load(ctx, r, kind)
		rr.Load = append(rr.Load, rows...)
		if err != nil {
			return rr, err
		}
	}
	if e.opt.phases["api-closed"] || e.opt.phases["baseline-closed"] {
		logf("run %d: subscribe API closed loop with %v connections", r, e.opt.closedConns)
		rows, err := e.closedLoop(ctx, r)
		rr.Closed = append(rr.Closed, rows...)
		if err != nil {
			return rr, err
		}
	}
	return rr, nil
}

// limits measures the raw SMTP limit, pipelined or not, and the
// mailer.Pool for n messages.
func (e *env) limits(ctx context.Context, r, n int, fr *fanoutRow) error {
	if !e.opt.phases["raw"] && !e.opt.phases["raw-pipelined"] && !e.opt.phases["pool"] {
		return nil
	}
	msg, err := e.sampleMessage(fr)
	if err != nil {
		return err
	}
	fr.MessageBytes = len(msg.raw)
	if e.opt.phases["raw"] {
		logf("run %d: raw SMTP limit, %d messages", r, n)
		if fr.Raw, err = e.rawLimit(ctx, n, msg.raw); err != nil {
			return fmt.Errorf("raw limit: %w", err)
		}
		if fr.Fanout != nil {
			fr.OfLimit = fr.Fanout.PerSecond / fr.Raw.PerSecond
		}
	}
	if e.opt.phases["raw-pipelined"] {
		logf("run %d: raw SMTP limit pipelined, %d messages", r, n)
		if fr.RawPipelined, err = e.rawPipelinedLimit(ctx, n, msg.raw); err != nil {
			return fmt.Errorf("raw pipelined limit: %w", err)
		}
		if fr.Fanout != nil {
			fr.OfPipelined = fr.Fanout.PerSecond / fr.RawPipelined.PerSecond
		}
	}
	if e.opt.phases["pool"] {
		logf("run %d: mailer.Pool, %d messages", r, n)
		if fr.Pool, err = e.poolLimit(ctx, n, msg.message); err != nil {
			return fmt.Errorf("pool: %w", err)
		}
	}
	return nil
}

func setup(ctx context.Context, opt *options) (*env, error) {
	topo, err := openTopology(ctx, opt.redisURL, opt.ownCluster)
	if err != nil {
		return nil, err
	}
	e := &env{opt: opt, topo: topo, rdb: topo.rdb, sink: newSinkClient(opt.sinkHTTP), cores: runtime.NumCPU()}
	if topo.cluster != nil && opt.seedVia == "pipeline" {
		if opt.seedGiven {
			topo.rdb.Close()
			return nil, errors.New("-seed pipeline writes through one server's pipelines (seed.go); on a cluster use -seed import")
		}
		opt.seedVia = "import"
		logf("on a cluster the subscribers are seeded by -seed import (subscribers.Service.Import)")
	}
	if err := e.sink.reset(ctx); err != nil {
		topo.rdb.Close()
		return nil, fmt.Errorf("the sink does not answer on %s (bench/run starts it): %w", opt.sinkHTTP, err)
	}
	if e.dir = opt.workDir; e.dir == "" {
		if e.dir, err = os.MkdirTemp("", "newsletter-bench-"); err != nil {
			return nil, err
		}
	}
	if e.self, err = os.Executable(); err != nil {
		return nil, err
	}
	e.bin, err = buildService(ctx, opt.bin, e.dir)
	if topo.cluster != nil {
		logf("logs and binaries in %s; Redis: %s, every master FLUSHALLed before each phase", e.dir, topo.name())
	} else {
		logf("logs and binaries in %s; Redis: %s, database %d flushed before each phase", e.dir, topo.name(), topo.target.DB)
	}
	return e, err
}

// buildService returns the newsletter binary: the given one, or a fresh
// build of ./cmd/newsletter.
func buildService(ctx context.Context, given, dir string) (string, error) {
	if given != "" {
		return given, nil
	}
	out := filepath.Join(dir, "newsletter")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/newsletter")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("go build ./cmd/newsletter (run from the repository root): %w", err)
	}
	return out, nil
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "%s  %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}
