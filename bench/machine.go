package main

import (
	"bufio"
	"context"
	"os"
	"runtime"
	"strings"
)

// machine describes where the bench ran.
type machine struct {
	Cores     int    `json:"cores"`
	CPU       string `json:"cpu"`
	MemTotal  string `json:"mem_total"`
	Kernel    string `json:"kernel"`
	Go        string `json:"go"`
	Redis     string `json:"redis"`
	LoadAvg   string `json:"load_average_at_start"`
	LoadAvgAt string `json:"load_average_at_end,omitempty"` // other work on the machine shows here
	RedisURL  string `json:"redis_url"`                     // without its password
	Topology  string `json:"redis_topology"`                // node, sentinel or cluster
	Masters   int    `json:"redis_masters"`
	SinkSMTP  string `json:"sink_smtp"`
	Connected int    `json:"smtp_connections"`
}

func describeMachine(ctx context.Context, e *env) machine {
	return machine{
		Cores: runtime.NumCPU(), CPU: procField("/proc/cpuinfo", "model name"), MemTotal: procField("/proc/meminfo", "MemTotal"),
		Kernel: firstLine("/proc/sys/kernel/osrelease"), Go: runtime.Version(), Redis: redisVersion(ctx, e.rdb),
		LoadAvg: firstLine("/proc/loadavg"), RedisURL: redactURL(e.opt.redisURL), Topology: e.topo.kind(), Masters: e.topo.masters,
		SinkSMTP: e.opt.sinkSMTP, Connected: e.opt.connections,
	}
}

// procField returns the value of the first "name: value" line of path.
func procField(path, name string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(k) == name {
			return strings.TrimSpace(v)
		}
	}
	return "unknown"
}

func firstLine(path string) string {
	raw, err := os.ReadFile(path)
	if err != nil {
		return "unknown"
	}
	line, _, _ := strings.Cut(string(raw), "\n")
	return strings.TrimSpace(line)
}

func optionsJSON(o *options) map[string]any {
	var phases []string
	for _, p := range allPhases {
		if o.phases[p] {
			phases = append(phases, p)
		}
	}
	return map[string]any{"n": o.ns, "connections": o.connections, "record_every": o.recordEvery, "runs": o.runs, "phases": phases,
		"rates": o.rates, "load_duration": o.loadFor.String(), "probes": o.probes, "probe_every": o.probeEvery.String(),
		"summary_bytes": o.articleBytes, "consent": o.consent, "seed": o.seedVia, "signup_rate": liftedRate, "confirmation_rate": liftedRate,
		"closed_connections": o.closedConns, "closed_duration": o.closedFor.String(), "closed_warm_up": closedWarmUp.String()}
}
