package main

import (
	"math"
	"sort"
	"time"
)

// results is everything one bench invocation measured; it is the JSON.
type results struct {
	Machine machine        `json:"machine"`
	Options map[string]any `json:"options"`
	Started time.Time      `json:"started"`
	Runs    []*runResult   `json:"runs"`
	Summary *summary       `json:"summary"` // medians over the runs
}

type runResult struct {
	Run    int         `json:"run"`
	Fanout []fanoutRow `json:"fanout"`
	Load   []loadRow   `json:"load"`
	Closed []closedRow `json:"closed_loop,omitempty"`
}

// fanoutRow is everything measured for one subscriber count in one run.
type fanoutRow struct {
	N            int           `json:"n"`
	Fanout       *fanoutResult `json:"fanout,omitempty"`
	Raw          *limitResult  `json:"raw_limit,omitempty"`
	RawPipelined *limitResult  `json:"raw_pipelined_limit,omitempty"`
	Pool         *limitResult  `json:"mailer_pool,omitempty"`
	OfLimit      float64       `json:"fanout_of_limit,omitempty"`     // fan-out msgs/s divided by the raw limit's
	OfPipelined  float64       `json:"fanout_of_pipelined,omitempty"` // and by the pipelined raw limit's
	MessageBytes int           `json:"message_bytes,omitempty"`
	sample       []byte        // a digest message as the sink received it
}

type summary struct {
	Fanout []summaryRow `json:"fanout"`
	Load   []summaryRow `json:"load"`
	Closed []summaryRow `json:"closed_loop,omitempty"`
}

// summaryRow is the medians of one subscriber count, of one load kind
// and rate, or of one closed-loop kind and connection count.
type summaryRow struct {
	N           int                `json:"n,omitempty"`
	Kind        string             `json:"kind,omitempty"`
	Rate        int                `json:"rate,omitempty"`
	Connections int                `json:"connections,omitempty"`
	Values      map[string]float64 `json:"values"`
}

// get returns the median named key, NaN when it was not measured.
func (s summaryRow) get(key string) float64 {
	if v, ok := s.Values[key]; ok {
		return v
	}
	return math.NaN()
}

// fanoutMetric extracts one figure from a fan-out row; ok is false when the
// row lacks it.
type fanoutMetric func(*fanoutRow) (v float64, ok bool)

func per1k(cpu float64, n int) float64 { return cpu / float64(n) * 1000 }

var fanoutMetrics = map[string]fanoutMetric{
	"fanout_per_s":                fan(func(f *fanoutResult, _ int) float64 { return f.PerSecond }),
	"fanout_s":                    fan(func(f *fanoutResult, _ int) float64 { return f.Seconds }),
	"fanout_first_s":              fan(func(f *fanoutResult, _ int) float64 { return f.FirstSeconds }),
	"service_cpu_1k":              fan(func(f *fanoutResult, n int) float64 { return per1k(f.WorkerCPU+f.ServeCPU, n) }),
	"worker_cpu_1k":               fan(func(f *fanoutResult, n int) float64 { return per1k(f.WorkerCPU, n) }),
	"redis_cpu_1k":                fan(func(f *fanoutResult, n int) float64 { return per1k(f.RedisCPU, n) }),
	"sink_cpu_1k":                 fan(func(f *fanoutResult, n int) float64 { return per1k(f.SinkCPU, n) }),
	"worker_rss_mb":               fan(func(f *fanoutResult, _ int) float64 { return float64(f.WorkerPeakRSS) / (1 << 20) }),
	"redis_b_sub":                 fan(func(f *fanoutResult, _ int) float64 { return f.BytesPerSub }),
	"redis_sampled_b_sub":         fan(func(f *fanoutResult, _ int) float64 { return f.SampledPerSub }),
	"redis_consent_b_sub":         fanIf(func(f *fanoutResult) (float64, bool) { return f.ConsentBytesPerSub, f.ConsentBytesPerSub != 0 }),
	"redis_consent_sampled_b_sub": fanIf(func(f *fanoutResult) (float64, bool) { return f.ConsentSampledPerSub, f.ConsentSampledPerSub != 0 }),
	"seed_s":                      fan(func(f *fanoutResult, _ int) float64 { return f.SeedSeconds }),
	"html_kb":                     fan(func(f *fanoutResult, _ int) float64 { return float64(f.HTMLBytes) / 1000 }),
	"latency_p50_ms": fanIf(func(f *fanoutResult) (float64, bool) {
		return latency(f, func(l *latencyResult) float64 { return l.P50ms })
	}),
	"latency_p95_ms": fanIf(func(f *fanoutResult) (float64, bool) {
		return latency(f, func(l *latencyResult) float64 { return l.P95ms })
	}),
	"latency_max_ms": fanIf(func(f *fanoutResult) (float64, bool) {
		return latency(f, func(l *latencyResult) float64 { return l.Maxms })
	}),
	"latency_missing": fanIf(func(f *fanoutResult) (float64, bool) {
		return latency(f, func(l *latencyResult) float64 { return float64(l.Missing + l.Refused) })
	}),
	"message_kb":                  func(r *fanoutRow) (float64, bool) { return float64(r.MessageBytes) / 1000, r.MessageBytes > 0 },
	"raw_per_s":                   limit(func(r *fanoutRow) *limitResult { return r.Raw }, func(l *limitResult, _ int) float64 { return l.PerSecond }),
	"raw_client_cpu_1k":           limit(func(r *fanoutRow) *limitResult { return r.Raw }, func(l *limitResult, n int) float64 { return per1k(l.CPU, n) }),
	"raw_sink_cpu_1k":             limit(func(r *fanoutRow) *limitResult { return r.Raw }, func(l *limitResult, n int) float64 { return per1k(l.SinkCPU, n) }),
	"raw_pipelined_per_s":         limit(func(r *fanoutRow) *limitResult { return r.RawPipelined }, func(l *limitResult, _ int) float64 { return l.PerSecond }),
	"raw_pipelined_client_cpu_1k": limit(func(r *fanoutRow) *limitResult { return r.RawPipelined }, func(l *limitResult, n int) float64 { return per1k(l.CPU, n) }),
	"raw_pipelined_sink_cpu_1k":   limit(func(r *fanoutRow) *limitResult { return r.RawPipelined }, func(l *limitResult, n int) float64 { return per1k(l.SinkCPU, n) }),
	"of_pipelined":                func(r *fanoutRow) (float64, bool) { return r.OfPipelined, r.OfPipelined > 0 },
	"pool_per_s":                  limit(func(r *fanoutRow) *limitResult { return r.Pool }, func(l *limitResult, _ int) float64 { return l.PerSecond }),
	"pool_cpu_1k":                 limit(func(r *fanoutRow) *limitResult { return r.Pool }, func(l *limitResult, n int) float64 { return per1k(l.CPU, n) }),
	"of_limit":                    func(r *fanoutRow) (float64, bool) { return r.OfLimit, r.OfLimit > 0 },
}

func fan(f func(*fanoutResult, int) float64) fanoutMetric {
	return func(r *fanoutRow) (float64, bool) {
		if r.Fanout == nil || r.Fanout.Seconds == 0 {
			return 0, false
		}
		return f(r.Fanout, r.N), true
	}
}

func fanIf(f func(*fanoutResult) (float64, bool)) fanoutMetric {
	return func(r *fanoutRow) (float64, bool) {
		if r.Fanout == nil {
			return 0, false
		}
		return f(r.Fanout)
	}
}

func latency(f *fanoutResult, get func(*latencyResult) float64) (float64, bool) {
	if f.Latency == nil || f.Latency.Probes == 0 {
		return 0, false
	}
	return get(f.Latency), true
}

func limit(pick func(*fanoutRow) *limitResult, f func(*limitResult, int) float64) fanoutMetric {
	return func(r *fanoutRow) (float64, bool) {
		l := pick(r)
		if l == nil {
			return 0, false
		}
		return f(l, r.N), true
	}
}

var loadMetrics = map[string]func(*loadRow) float64{
	"throughput":    func(l *loadRow) float64 { return l.Throughput },
	"success":       func(l *loadRow) float64 { return l.Success },
	"p50_ms":        func(l *loadRow) float64 { return l.P50ms },
	"p99_ms":        func(l *loadRow) float64 { return l.P99ms },
	"max_ms":        func(l *loadRow) float64 { return l.Maxms },
	"non_2xx":       func(l *loadRow) float64 { return float64(l.Non2xx) },
	"server_cpu_1k": func(l *loadRow) float64 { return per1k(l.ServerCPU, int(max(l.Requests, 1))) },
	"worker_cpu_1k": func(l *loadRow) float64 { return per1k(l.WorkerCPU, int(max(l.Requests, 1))) },
	"redis_cpu_1k":  func(l *loadRow) float64 { return per1k(l.RedisCPU, int(max(l.Requests, 1))) },
	"load_cpu_1k":   func(l *loadRow) float64 { return per1k(l.LoadCPU, int(max(l.Requests, 1))) },
	"mails":         func(l *loadRow) float64 { return float64(l.Mails) },
}

// summarize takes the median of every figure over the runs.
func summarize(runs []*runResult) *summary {
	s := &summary{}
	byN := map[int][]*fanoutRow{}
	var ns []int
	for _, r := range runs {
		for i := range r.Fanout {
			row := &r.Fanout[i]
			if byN[row.N] == nil {
				ns = append(ns, row.N)
			}
			byN[row.N] = append(byN[row.N], row)
		}
	}
	for _, n := range ns {
		sr := summaryRow{N: n, Values: map[string]float64{}}
		for key, m := range fanoutMetrics {
			var vs []float64
			for _, row := range byN[n] {
				if v, ok := m(row); ok {
					vs = append(vs, v)
				}
			}
			if len(vs) > 0 {
				sr.Values[key] = median(vs)
			}
		}
		s.Fanout = append(s.Fanout, sr)
	}
	s.Load = summarizeLoad(runs)
	s.Closed = summarizeClosed(runs)
	return s
}

func summarizeLoad(runs []*runResult) []summaryRow {
	var rows []*loadRow
	for _, r := range runs {
		for i := range r.Load {
			rows = append(rows, &r.Load[i])
		}
	}
	out := medians(rows, func(row *loadRow) (string, int) { return row.Kind, row.Rate }, loadMetrics)
	for i := range out {
		out[i].Rate, out[i].Connections = out[i].Connections, 0
	}
	return out
}

// medians groups rows by their kind and number (a rate, a connection
// count), in the order first seen, and takes the median of each metric of
// each group; the number goes in Connections.
func medians[R any](rows []*R, key func(*R) (string, int), metrics map[string]func(*R) float64) []summaryRow {
	type groupKey struct {
		kind string
		n    int
	}
	groups := map[groupKey][]*R{}
	var keys []groupKey
	for _, row := range rows {
		kind, n := key(row)
		k := groupKey{kind, n}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], row)
	}
	out := make([]summaryRow, 0, len(keys))
	for _, k := range keys {
		sr := summaryRow{Kind: k.kind, Connections: k.n, Values: map[string]float64{}}
		for name, m := range metrics {
			vs := make([]float64, 0, len(groups[k]))
			for _, row := range groups[k] {
				vs = append(vs, m(row))
			}
			sr.Values[name] = median(vs)
		}
		out = append(out, sr)
	}
	return out
}

func median(vs []float64) float64 {
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
