package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// closedRow is one closed-loop load of the subscribe endpoint: a fixed
// number of kept connections, each sending the next signup as soon as the
// answer to its last one came, for a while. It measures the most a server
// answers, and at what latency, rather than the latency at a given rate.
type closedRow struct {
	Kind        string         `json:"kind"` // "api-closed": serve alone, limits lifted; "baseline-closed": bare Gin + one Redis SET
	Connections int            `json:"connections"`
	Seconds     float64        `json:"seconds"`  // from the first request to the last answer
	Requests    int64          `json:"requests"` // sent: answered or failed
	OK          int64          `json:"ok"`       // answered 2xx
	PerSecond   float64        `json:"per_second"`
	AllPerSec   float64        `json:"answered_per_second"` // every answer, 2xx or not
	Non2xx      int64          `json:"non_2xx"`
	Errors      int64          `json:"errors"` // no answer: transport errors, timeouts
	Codes       map[string]int `json:"status_codes"`
	ErrorSample []string       `json:"error_sample,omitempty"` // the first few errors and non-2xx answers
	P50ms       float64        `json:"p50_ms"`                 // of the answered requests, 2xx or not
	P90ms       float64        `json:"p90_ms"`
	P99ms       float64        `json:"p99_ms"`
	P999ms      float64        `json:"p999_ms"`
	Maxms       float64        `json:"max_ms"`
	ServerCPU   float64        `json:"server_cpu_seconds"`
	RedisCPU    float64        `json:"redis_cpu_seconds"` // the masters' on a cluster
	LoadCPU     float64        `json:"load_cpu_seconds"`  // this process, the client, on the same cores
}

// closedWarmUp is how long each connection count runs before it is
// measured: connections, pools and the heap settle, and the queue that a
// closed loop keeps in front of the server builds up.
const closedWarmUp = 3 * time.Second

// closedKinds are the closed-loop phases, in the order each connection
// count runs them, and the target each loads.
var closedKinds = []string{"api-closed", "baseline-closed"}

// closedLoop runs the chosen closed-loop phases for each connection count
// of -closed-connections. Both servers run side by side on the same Redis
// (the idle one costs nothing), and each count loads one then the other,
// so that the two figures of a count are minutes apart at most.
func (e *env) closedLoop(ctx context.Context, r int) ([]closedRow, error) {
	if err := e.topo.flush(ctx); err != nil {
		return nil, err
	}
	targets := map[string]*target{}
	defer func() {
		for _, t := range targets {
			t.stop()
		}
	}()
	for _, kind := range closedKinds {
		if !e.opt.phases[kind] {
			continue
		}
		t, err := e.closedTarget(ctx, r, kind)
		if err != nil {
			return nil, err
		}
		targets[kind] = t
	}
	var rows []closedRow
	for _, conns := range e.opt.closedConns {
		for _, kind := range closedKinds {
			t := targets[kind]
			if t == nil {
				continue
			}
			tag := fmt.Sprintf("r%d-%s-c%d", r, kind, conns)
			logf("%s: %d connections, %v warm-up and %v measured", kind, conns, closedWarmUp, e.opt.closedFor)
			row, err := e.closedRun(ctx, t, kind, conns)
			if row != nil {
				rows = append(rows, *row)
				logf("%s: %s 2xx/s, p50 %.1f ms, p99 %.1f ms, %d non-2xx, %d errors", tag, num(row.PerSecond, 0), row.P50ms, row.P99ms, row.Non2xx, row.Errors)
			}
			if err != nil {
				return rows, err
			}
			time.Sleep(time.Second) // let sockets and queues settle
		}
	}
	return rows, nil
}

// closedTarget starts what kind loads: `newsletter serve` alone, as the
// api-alone phase runs it (the signup limits lifted, the confirmation
// emails left in the outbox), or the baseline server.
func (e *env) closedTarget(ctx context.Context, r int, kind string) (*target, error) {
	label := fmt.Sprintf("run%d-%s", r, kind)
	if kind == "baseline-closed" {
		return e.startBaseline(ctx, label)
	}
	svc, err := e.startProcesses(ctx, label, false)
	if err != nil {
		return nil, err
	}
	if err := svc.api.putNewsletter(ctx); err != nil {
		svc.stop()
		return nil, err
	}
	return &target{url: svc.api.base + "/v1/subscriptions", server: svc.serve, stop: svc.stop}, nil
}

// closedRun warms t up with conns connections, then measures them.
func (e *env) closedRun(ctx context.Context, t *target, kind string, conns int) (*closedRow, error) {
	client := closedClient(conns)
	defer client.CloseIdleConnections()
	if _, err := closedLoad(ctx, client, t.url, conns, closedWarmUp); err != nil {
		return nil, err
	}
	before, err := e.loadUsage(ctx, t)
	if err != nil {
		return nil, err
	}
	res, err := closedLoad(ctx, client, t.url, conns, e.opt.closedFor)
	if err != nil {
		return nil, err
	}
	after, err := e.loadUsage(ctx, t)
	if err != nil {
		return nil, err
	}
	row := res.row(kind, conns)
	row.ServerCPU, row.RedisCPU, row.LoadCPU = after.serve-before.serve, after.redis-before.redis, after.load-before.load
	return row, ctx.Err()
}

// closedClient is a plain HTTP/1.1 client keeping conns connections to
// the one host, no more.
func closedClient(conns int) *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns,
		MaxIdleConnsPerHost: conns,
		MaxConnsPerHost:     conns,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}}
}

// closedResult is what the connections of one closed load saw.
type closedResult struct {
	elapsed  time.Duration
	requests int64
	ok       int64
	errors   int64
	codes    map[int]int
	samples  []string
	lat      []time.Duration // of the answered requests
}

// closedLoad runs conns connections for d, each sending signups back to
// back, and gathers every answer, error and latency.
func closedLoad(ctx context.Context, client *http.Client, url string, conns int, d time.Duration) (*closedResult, error) {
	type worker struct {
		requests, ok, errors int64
		codes                map[int]int
		samples              []string
		lat                  []time.Duration
	}
	ws := make([]worker, conns)
	run := randomTag() // one per load: signups stay unique across loads and runs, flushed or not
	start := time.Now()
	end := start.Add(d)
	var wg sync.WaitGroup
	for w := range ws {
		wg.Go(func() {
			me := &ws[w]
			me.codes = map[int]int{}
			me.lat = make([]time.Duration, 0, 4096)
			body := make([]byte, 0, 256)
			prefix := run + "." + strconv.FormatInt(int64(w), 36)
			for i := 0; ctx.Err() == nil && time.Now().Before(end); i++ {
				body = signupJSON(body[:0], prefix, i)
				code, took, err := postJSON(ctx, client, url, body)
				me.requests++
				if err != nil {
					me.errors++
					if len(me.samples) < 3 {
						me.samples = append(me.samples, err.Error())
					}
					continue
				}
				me.codes[code]++
				me.lat = append(me.lat, took)
				if code/100 == 2 {
					me.ok++
				} else if len(me.samples) < 3 {
					me.samples = append(me.samples, "HTTP "+strconv.Itoa(code))
				}
			}
		})
	}
	wg.Wait()
	res := &closedResult{elapsed: time.Since(start), codes: map[int]int{}}
	for _, w := range ws {
		res.requests += w.requests
		res.ok += w.ok
		res.errors += w.errors
		for c, k := range w.codes {
			res.codes[c] += k
		}
		res.lat = append(res.lat, w.lat...)
		if len(res.samples) < 5 {
			res.samples = append(res.samples, w.samples...)
		}
	}
	if len(res.samples) > 5 {
		res.samples = res.samples[:5]
	}
	slices.Sort(res.lat)
	if res.requests == 0 {
		return res, errors.New("no request was sent")
	}
	return res, ctx.Err()
}

// postJSON posts body and reads the whole answer, returning its status and
// how long the request took.
func postJSON(ctx context.Context, client *http.Client, url string, body []byte) (int, time.Duration, error) {
	// The body is copied: the caller reuses its buffer, and the transport
	// may still be writing this one when the answer is in.
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(bytes.Clone(body)))
	if err != nil {
		return 0, 0, err
	}
	req.Header["Content-Type"] = []string{"application/json"}
	t0 := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return 0, 0, err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	took := time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the answer: %w", err)
	}
	return resp.StatusCode, took, nil
}

func (res *closedResult) row(kind string, conns int) *closedRow {
	secs := res.elapsed.Seconds()
	row := &closedRow{Kind: kind, Connections: conns, Seconds: secs, Requests: res.requests, OK: res.ok,
		PerSecond: float64(res.ok) / secs, AllPerSec: float64(len(res.lat)) / secs, Errors: res.errors,
		Codes: map[string]int{}, ErrorSample: res.samples}
	for code, k := range res.codes {
		row.Codes[strconv.Itoa(code)] = k
		if code/100 != 2 {
			row.Non2xx += int64(k)
		}
	}
	if n := len(res.lat); n > 0 {
		at := func(q float64) float64 { return ms(res.lat[min(int(q*float64(n)), n-1)]) }
		row.P50ms, row.P90ms, row.P99ms, row.P999ms, row.Maxms = at(0.50), at(0.90), at(0.99), at(0.999), ms(res.lat[n-1])
	}
	return row
}

// Names for the signups: an address such as maria.garcia.<unique>@mail.example
// and a name "Maria Garcia", under reserved domains.
var (
	firstNames = []string{"Maria", "James", "Aiko", "Olu", "Sofia", "Lukas", "Priya", "Mateo", "Chloe", "Omar", "Ingrid", "Wei", "Amara", "Tomasz", "Lea", "Diego"}
	lastNames  = []string{"Garcia", "Smith", "Tanaka", "Adeyemi", "Rossi", "Müller", "Sharma", "Silva", "Martin", "Haddad", "Larsen", "Chen", "Okafor", "Nowak", "Dubois", "Fernandez"}
	domains    = []string{"mail.example", "post.example.org", "inbox.example.net", "example.com", "news-readers.example"}
	asciiLast  = map[string]string{"Müller": "mueller"}
)

// signupJSON appends the JSON signup number i of a connection: a unique
// address, a name, and the bench's newsletter.
func signupJSON(b []byte, prefix string, i int) []byte {
	first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames)+len(prefix))%len(lastNames)]
	local := asciiLast[last]
	if local == "" {
		local = strings.ToLower(last)
	}
	b = append(b, `{"email":"`...)
	b = append(b, strings.ToLower(first)...)
	b = append(b, '.')
	b = append(b, local...)
	b = append(b, '.')
	b = append(b, prefix...)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64(i), 36)
	b = append(b, '@')
	b = append(b, domains[i%len(domains)]...)
	b = append(b, `","name":"`...)
	b = append(b, first...)
	b = append(b, ' ')
	b = append(b, last...)
	b = append(b, `","newsletters":["`...)
	b = append(b, benchNewsletter...)
	b = append(b, `"]}`...)
	return b
}

// randomTag is six random base-36 characters.
func randomTag() string {
	const digits = "0123456789abcdefghijklmnopqrstuvwxyz"
	b := make([]byte, 6)
	rand.Read(b)
	for i := range b {
		b[i] = digits[int(b[i])%len(digits)]
	}
	return string(b)
}

// closedMetrics are the figures a closed-loop row's summary takes the
// median of.
var closedMetrics = map[string]func(*closedRow) float64{
	"per_s":         func(c *closedRow) float64 { return c.PerSecond },
	"answered_s":    func(c *closedRow) float64 { return c.AllPerSec },
	"p50_ms":        func(c *closedRow) float64 { return c.P50ms },
	"p90_ms":        func(c *closedRow) float64 { return c.P90ms },
	"p99_ms":        func(c *closedRow) float64 { return c.P99ms },
	"p999_ms":       func(c *closedRow) float64 { return c.P999ms },
	"max_ms":        func(c *closedRow) float64 { return c.Maxms },
	"non_2xx":       func(c *closedRow) float64 { return float64(c.Non2xx) },
	"errors":        func(c *closedRow) float64 { return float64(c.Errors) },
	"server_cpu_1k": func(c *closedRow) float64 { return per1k(c.ServerCPU, int(max(c.Requests, 1))) },
	"redis_cpu_1k":  func(c *closedRow) float64 { return per1k(c.RedisCPU, int(max(c.Requests, 1))) },
	"load_cpu_1k":   func(c *closedRow) float64 { return per1k(c.LoadCPU, int(max(c.Requests, 1))) },
}

// summarizeClosed takes the medians of each kind and connection count
// over the runs.
func summarizeClosed(runs []*runResult) []summaryRow {
	var rows []*closedRow
	for _, r := range runs {
		for i := range r.Closed {
			rows = append(rows, &r.Closed[i])
		}
	}
	out := medians(rows, func(row *closedRow) (string, int) { return row.Kind, row.Connections }, closedMetrics)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Connections < out[j].Connections })
	return out
}
