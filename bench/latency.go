package main

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"time"
)

// latencyResult is how long confirmation emails took, from the signup
// request to their arrival at the sink, while a digest was going out.
type latencyResult struct {
	Probes  int     `json:"probes"`
	Refused int     `json:"refused"` // signups not answered 202
	Missing int     `json:"missing"` // confirmations that never arrived
	P50ms   float64 `json:"p50_ms"`
	P95ms   float64 `json:"p95_ms"`
	Maxms   float64 `json:"max_ms"`
}

// probes signs up addresses starting with "latency-" (the prefix the sink
// records) at a steady pace.
type probes struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	sent    map[string]time.Time
	refused int
}

// startProbes sends e.opt.probes signups, e.opt.probeEvery apart, in the
// background.
func (e *env) startProbes(ctx context.Context, api *apiClient, tag string) *probes {
	ctx, cancel := context.WithCancel(ctx)
	p := &probes{cancel: cancel, done: make(chan struct{}), sent: map[string]time.Time{}}
	go func() {
		defer close(p.done)
		tick := time.NewTicker(e.opt.probeEvery)
		defer tick.Stop()
		for i := range e.opt.probes {
			p.signup(ctx, api, fmt.Sprintf("latency-%s-%d@bench.example", tag, i))
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return p
}

func (p *probes) signup(ctx context.Context, api *apiClient, email string) {
	at := time.Now()
	code, err := api.subscribe(ctx, email)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil || code != http.StatusAccepted {
		p.refused++
		return
	}
	p.sent[email] = at
}

func (p *probes) stop() {
	p.cancel()
	<-p.done
}

// result waits for the probes to be sent and their confirmations to arrive
// (30 seconds at most after the last one), and summarizes the latencies.
func (p *probes) result(ctx context.Context, sink *sinkClient) *latencyResult {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	res := &latencyResult{Probes: len(p.sent) + p.refused, Refused: p.refused}
	arrived := map[string]int64{}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) && ctx.Err() == nil {
		got, err := sink.arrivals(ctx)
		if err == nil {
			arrived = got
		}
		if allArrived(p.sent, arrived) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	var ms []float64
	for email, at := range p.sent {
		if t, ok := arrived[email]; ok {
			ms = append(ms, float64(t-at.UnixNano())/1e6)
		} else {
			res.Missing++
		}
	}
	if len(ms) > 0 {
		sort.Float64s(ms)
		res.P50ms, res.P95ms, res.Maxms = quantile(ms, 0.50), quantile(ms, 0.95), ms[len(ms)-1]
	}
	return res
}

func allArrived(sent map[string]time.Time, arrived map[string]int64) bool {
	for email := range sent {
		if _, ok := arrived[email]; !ok {
			return false
		}
	}
	return true
}

// quantile returns the q-quantile of sorted values, nearest rank.
func quantile(sorted []float64, q float64) float64 {
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
