package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"sort"
	"strconv"
	"sync/atomic"
	"time"

	vegeta "github.com/tsenart/vegeta/v12/lib"
)

// loadRow is one fixed-rate load of the subscribe endpoint.
type loadRow struct {
	Kind       string         `json:"kind"` // "api": serve + worker; "api-alone": serve, the emails queued; "baseline": bare Gin + one Redis SET
	Rate       int            `json:"rate"`
	Requests   uint64         `json:"requests"`
	Throughput float64        `json:"throughput"` // successful requests per second
	Success    float64        `json:"success"`    // share of 2xx
	P50ms      float64        `json:"p50_ms"`
	P99ms      float64        `json:"p99_ms"`
	Maxms      float64        `json:"max_ms"`
	Non2xx     int            `json:"non_2xx"`
	Codes      map[string]int `json:"status_codes"`
	Errors     []string       `json:"errors,omitempty"`
	ServerCPU  float64        `json:"server_cpu_seconds"` // the API process (serve, or the baseline)
	WorkerCPU  float64        `json:"worker_cpu_seconds,omitempty"`
	RedisCPU   float64        `json:"redis_cpu_seconds"`
	LoadCPU    float64        `json:"load_cpu_seconds"`                // the load generator, vegeta in this process, on the same cores
	Mails      int64          `json:"confirmations_at_sink,omitempty"` // during the load
	// SlowSeconds are the seconds of the load (from its start) in which
	// some request took 50 ms or more, with the slowest latency in ms: where
	// a p99 miss comes from, a stall or a queue that builds up.
	SlowSeconds map[int]float64 `json:"slow_seconds,omitempty"`
}

// target is what a load phase loads: the subscribe URL, and the processes
// whose CPU counts.
type target struct {
	url    string
	server *child
	worker *child
	stop   func()
}

// load runs each rate against the service ("api") or the baseline.
func (e *env) load(ctx context.Context, r int, kind string) ([]loadRow, error) {
	if err := e.topo.flush(ctx); err != nil {
		return nil, err
	}
	t, err := e.loadTarget(ctx, r, kind)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	// Warm up (connection pools, scripts, heap) before the first rate, and
	// again for a moment at each rate before it is measured: a cold start
	// or the step to a higher rate would otherwise count against it. The
	// attackers of a target share one HTTP client, so connections opened at
	// one rate serve the next, as a real site's proxy keeps them.
	client := loadClient()
	defer client.CloseIdleConnections()
	if _, err := e.attack(ctx, t, client, kind, fmt.Sprintf("r%d-%s-warmup", r, kind), e.opt.rates[0], warmUp); err != nil {
		return nil, err
	}
	var rows []loadRow
	for _, rate := range e.opt.rates {
		if _, err := e.attack(ctx, t, client, kind, fmt.Sprintf("r%d-%s-%d-warmup", r, kind, rate), rate, stepWarmUp); err != nil {
			return rows, err
		}
		row, err := e.attack(ctx, t, client, kind, fmt.Sprintf("r%d-%s-%d", r, kind, rate), rate, e.opt.loadFor)
		if err != nil {
			return rows, err
		}
		rows = append(rows, *row)
		time.Sleep(time.Second) // let queues and sockets settle
	}
	return rows, nil
}

func (e *env) loadTarget(ctx context.Context, r int, kind string) (*target, error) {
	if kind == "baseline" {
		return e.startBaseline(ctx, fmt.Sprintf("run%d-baseline", r))
	}
	svc, err := e.startProcesses(ctx, fmt.Sprintf("run%d-%s", r, kind), kind == "api")
	if err != nil {
		return nil, err
	}
	if err := svc.api.putNewsletter(ctx); err != nil {
		svc.stop()
		return nil, err
	}
	return &target{url: svc.api.base + "/v1/subscriptions", server: svc.serve, worker: svc.worker, stop: svc.stop}, nil
}

// warmUp is how long each load target is loaded before it is measured,
// and stepWarmUp how long each rate runs before it is.
const (
	warmUp     = 3 * time.Second
	stepWarmUp = 2 * time.Second
)

// attack loads t at rate signups per second for d, each with an address of
// its own.
func (e *env) attack(ctx context.Context, t *target, client *http.Client, kind, tag string, rate int, d time.Duration) (*loadRow, error) {
	if err := e.sink.reset(ctx); err != nil {
		return nil, err
	}
	before, err := e.loadUsage(ctx, t)
	if err != nil {
		return nil, err
	}
	atk := vegeta.NewAttacker(vegeta.Client(client), vegeta.Workers(64), vegeta.MaxWorkers(4096))
	var m vegeta.Metrics
	slow := map[int]float64{}
	start := time.Now()
	results := atk.Attack(signups(t.url, "load-"+tag+"-"), vegeta.Rate{Freq: rate, Per: time.Second}, d, tag)
	for res := range results {
		if ctx.Err() != nil {
			atk.Stop()
		}
		m.Add(res)
		if res.Latency >= slowRequest {
			sec := int(res.Timestamp.Sub(start) / time.Second)
			slow[sec] = max(slow[sec], ms(res.Latency))
		}
	}
	m.Close()
	after, err := e.loadUsage(ctx, t)
	if err != nil {
		return nil, err
	}
	c, err := e.sink.count(ctx)
	if err != nil {
		return nil, err
	}
	row := rowOf(kind, rate, &m)
	if len(slow) > 0 {
		row.SlowSeconds = slow
		logf("%s: slow seconds (from the start: slowest ms) %v", tag, slow)
	}
	row.ServerCPU, row.WorkerCPU, row.RedisCPU = after.serve-before.serve, after.worker-before.worker, after.redis-before.redis
	row.LoadCPU = after.load - before.load
	if kind == "api" {
		row.Mails = c.Messages
	}
	return row, ctx.Err()
}

// loadClient is the HTTP client of the load: vegeta's defaults, with
// keep-alive.
func loadClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext:         (&net.Dialer{KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConnsPerHost: vegeta.DefaultConnections,
		MaxConnsPerHost:     vegeta.DefaultMaxConnections,
	}}
}

// slowRequest is the latency from which a request marks its second slow.
const slowRequest = 50 * time.Millisecond

// signups is a targeter of valid JSON signups with distinct addresses.
func signups(url, prefix string) vegeta.Targeter {
	var seq atomic.Int64
	hdr := http.Header{"Content-Type": {"application/json"}}
	return func(t *vegeta.Target) error {
		i := seq.Add(1)
		t.Method, t.URL, t.Header = http.MethodPost, url, hdr
		t.Body = []byte(`{"email":"` + prefix + strconv.FormatInt(i, 10) + `@bench.example","newsletters":["` + benchNewsletter + `"]}`)
		return nil
	}
}

func rowOf(kind string, rate int, m *vegeta.Metrics) *loadRow {
	row := &loadRow{Kind: kind, Rate: rate, Requests: m.Requests, Throughput: m.Throughput, Success: m.Success,
		P50ms: ms(m.Latencies.P50), P99ms: ms(m.Latencies.P99), Maxms: ms(m.Latencies.Max), Codes: m.StatusCodes}
	for code, count := range m.StatusCodes {
		if len(code) != 3 || code[0] != '2' {
			row.Non2xx += count
		}
	}
	row.Errors = m.Errors
	sort.Strings(row.Errors)
	if len(row.Errors) > 5 {
		row.Errors = row.Errors[:5]
	}
	return row
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// loadUsage is the CPU of the target's processes and of Redis.
func (e *env) loadUsage(ctx context.Context, t *target) (usage, error) {
	var u usage
	var err error
	if u.serve, err = procCPU(t.server.pid()); err != nil {
		return u, err
	}
	if t.worker != nil {
		if u.worker, err = procCPU(t.worker.pid()); err != nil {
			return u, err
		}
	}
	if u.load, err = procCPU(os.Getpid()); err != nil {
		return u, err
	}
	u.redis, err = redisCPU(ctx, e.rdb)
	return u, err
}
