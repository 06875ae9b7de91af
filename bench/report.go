package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
)

// report prints the medians as markdown and writes the JSON.
func (e *env) report(res *results) {
	res.Summary = summarize(res.Runs)
	printMarkdown(os.Stdout, res)
	if e.opt.jsonPath == "" {
		return
	}
	if err := writeJSON(e.opt.jsonPath, res); err != nil {
		logf("write %s: %v", e.opt.jsonPath, err)
		return
	}
	logf("wrote %s", e.opt.jsonPath)
}

func writeJSON(path string, res *results) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	raw, err := json.MarshalIndent(res, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(raw, '\n'), 0o644)
}

func printMarkdown(w io.Writer, res *results) {
	m := res.Machine
	fmt.Fprintf(w, "\n## Results: medians of %d run(s)\n\n", len(res.Runs))
	fmt.Fprintf(w, "%d cores (%s), %s, Go %s, Redis %s, kernel %s; load average at start %s", m.Cores, m.CPU, m.MemTotal,
		strings.TrimPrefix(m.Go, "go"), m.Redis, m.Kernel, m.LoadAvg)
	if m.LoadAvgAt != "" {
		fmt.Fprintf(w, ", at the end %s", m.LoadAvgAt)
	}
	fmt.Fprintf(w, "; %d SMTP connections.\n", m.Connected)
	fmt.Fprintf(w, "NEWSLETTER_RECORD_EVERY=%v. ", res.Options["record_every"])
	fmt.Fprintf(w, "Signup and confirmation limits lifted (%s) for the bench. Subscribers seeded by %v", liftedRate, res.Options["seed"])
	if res.Options["seed"] == "import" {
		fmt.Fprint(w, " (each with the import's consent record, counted in Redis B/subscriber)")
	}
	fmt.Fprintln(w, ".")
	topo := topologyName(m)
	fmt.Fprintf(w, "Redis: %s, %s.\n", topo, m.RedisURL)
	s := res.Summary
	if len(s.Fanout) > 0 {
		printFanout(w, s.Fanout, topo)
		printCosts(w, s.Fanout)
		printLatency(w, s.Fanout)
	}
	if len(s.Load) > 0 {
		printLoad(w, s.Load)
	}
	if len(s.Closed) > 0 {
		printClosed(w, s.Closed, topo)
	}
	printTargets(w, s, topo)
}

// topologyName is what the tables call the Redis that m ran on.
func topologyName(m machine) string {
	switch m.Topology {
	case "cluster":
		return fmt.Sprintf("cluster (%d masters)", m.Masters)
	case "sentinel":
		return "Sentinel master"
	}
	return "one node"
}

func printFanout(w io.Writer, rows []summaryRow, topo string) {
	fmt.Fprintf(w, "\n### Digest fan-out, Redis %s\n", topo)
	fmt.Fprintln(w, "\nraw: one command and one reply at a time (4 round trips a message); pipelined: each message's content in one write with the next one's MAIL, RCPT and DATA (1 round trip), as the service streams a batch. Same message, same connections.")
	table(w, []string{"subscribers", "fan-out msg/s", "time s", "first message s", "raw msg/s", "fan-out ÷ raw", "pipelined raw msg/s", "fan-out ÷ pipelined", "mailer.Pool msg/s", "message KB", "HTML KB"},
		rows, func(r summaryRow) []string {
			return []string{count(r.N), num(r.get("fanout_per_s"), 0), num(r.get("fanout_s"), 1), num(r.get("fanout_first_s"), 2), num(r.get("raw_per_s"), 0),
				pct(r.get("of_limit")), num(r.get("raw_pipelined_per_s"), 0), pct(r.get("of_pipelined")),
				num(r.get("pool_per_s"), 0), num(r.get("message_kb"), 1), num(r.get("html_kb"), 1)}
		})
}

// printClosed prints the closed-loop rows, the API's with its ratio to the
// baseline at the same connection count.
func printClosed(w io.Writer, rows []summaryRow, topo string) {
	fmt.Fprintf(w, "\n### Subscribe API, closed loop, Redis %s\n", topo)
	fmt.Fprintln(w, "\nEach connection sends the next signup (a new address, a name, one newsletter) as soon as the last is answered. api-closed: `newsletter serve` alone, limits lifted, confirmations left in the outbox; baseline-closed: bare Gin + one Redis SET. The client runs on the same cores. CPU in seconds per 1,000 requests.")
	base := map[int]summaryRow{}
	for _, r := range rows {
		if r.Kind == "baseline-closed" {
			base[r.Connections] = r
		}
	}
	table(w, []string{"server", "connections", "2xx/s", "p50 ms", "p90 ms", "p99 ms", "max ms", "non-2xx", "errors", "server CPU", "Redis CPU", "client CPU", "2xx/s ÷ baseline"},
		rows, func(r summaryRow) []string {
			ratio := math.NaN()
			if b, ok := base[r.Connections]; ok && r.Kind != "baseline-closed" {
				ratio = r.get("per_s") / b.get("per_s")
			}
			return []string{r.Kind, count(r.Connections), num(r.get("per_s"), 0), num(r.get("p50_ms"), 1), num(r.get("p90_ms"), 1),
				num(r.get("p99_ms"), 1), num(r.get("max_ms"), 1), num(r.get("non_2xx"), 0), num(r.get("errors"), 0),
				num(r.get("server_cpu_1k"), 3), num(r.get("redis_cpu_1k"), 3), num(r.get("load_cpu_1k"), 3), pct(ratio)}
		})
}

// reportFiles prints the tables of results written earlier, one file
// after the other (say one per topology). It returns the exit code.
func reportFiles(paths []string) int {
	if len(paths) == 0 {
		fmt.Fprintln(os.Stderr, "usage: bench report RESULTS.json ...")
		return 2
	}
	for _, p := range paths {
		raw, err := os.ReadFile(p)
		if err != nil {
			fmt.Fprintln(os.Stderr, "bench report:", err)
			return 1
		}
		var res results
		if err := json.Unmarshal(raw, &res); err != nil {
			fmt.Fprintf(os.Stderr, "bench report: %s: %v\n", p, err)
			return 1
		}
		if res.Summary == nil {
			res.Summary = summarize(res.Runs)
		}
		fmt.Printf("\n<!-- %s -->\n", p)
		printMarkdown(os.Stdout, &res)
	}
	return 0
}

func printCosts(w io.Writer, rows []summaryRow) {
	fmt.Fprintln(w, "\n### Cost of the fan-out (CPU seconds per 1,000 messages)")
	table(w, []string{"subscribers", "service CPU (worker + API)", "Redis CPU", "sink CPU", "raw client CPU", "worker peak RSS MB",
		"Redis B/subscriber (INFO; MEMORY USAGE)", "with 2 consent records", "seed s"},
		rows, func(r summaryRow) []string {
			return []string{count(r.N), num(r.get("service_cpu_1k"), 3), num(r.get("redis_cpu_1k"), 3), num(r.get("sink_cpu_1k"), 3),
				num(r.get("raw_client_cpu_1k"), 3), num(r.get("worker_rss_mb"), 1),
				num(r.get("redis_b_sub"), 0) + "; " + num(r.get("redis_sampled_b_sub"), 0),
				num(r.get("redis_consent_b_sub"), 0) + "; " + num(r.get("redis_consent_sampled_b_sub"), 0), num(r.get("seed_s"), 1)}
		})
}

func printLatency(w io.Writer, rows []summaryRow) {
	fmt.Fprintln(w, "\n### Confirmation latency during the digest (signup to sink)")
	table(w, []string{"digest to", "p50 ms", "p95 ms", "max ms", "missing or refused"},
		rows, func(r summaryRow) []string {
			return []string{count(r.N), num(r.get("latency_p50_ms"), 0), num(r.get("latency_p95_ms"), 0),
				num(r.get("latency_max_ms"), 0), num(r.get("latency_missing"), 0)}
		})
}

func printLoad(w io.Writer, rows []summaryRow) {
	fmt.Fprintln(w, "\n### Subscribe API at fixed rates (api: serve + worker sending the confirmations; api-alone: serve, confirmation emails left in the outbox; baseline: bare Gin + one Redis SET)")
	base := map[int]summaryRow{}
	for _, r := range rows {
		if r.Kind == "baseline" {
			base[r.Rate] = r
		}
	}
	table(w, []string{"server", "rate/s", "throughput/s", "success", "p50 ms", "p99 ms", "non-2xx", "server CPU s/1k", "Redis CPU s/1k", "load CPU s/1k", "p99 ÷ baseline"},
		rows, func(r summaryRow) []string {
			ratio := math.NaN()
			if b, ok := base[r.Rate]; ok && r.Kind != "baseline" {
				ratio = r.get("p99_ms") / b.get("p99_ms")
			}
			return []string{r.Kind, count(r.Rate), num(r.get("throughput"), 0), pct(r.get("success")), num(r.get("p50_ms"), 1),
				num(r.get("p99_ms"), 1), num(r.get("non_2xx"), 0), num(r.get("server_cpu_1k"), 3), num(r.get("redis_cpu_1k"), 3), num(r.get("load_cpu_1k"), 3), num(ratio, 1)}
		})
}

func table(w io.Writer, head []string, rows []summaryRow, cells func(summaryRow) []string) {
	fmt.Fprintf(w, "\n| %s |\n|%s\n", strings.Join(head, " | "), strings.Repeat("---|", len(head)))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells(r), " | "))
	}
}

func num(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "–"
	}
	return commas(fmt.Sprintf("%.*f", prec, v))
}

func pct(v float64) string {
	if math.IsNaN(v) {
		return "–"
	}
	return fmt.Sprintf("%.0f%%", 100*v)
}

func count(n int) string { return commas(fmt.Sprint(n)) }

// commas groups the integer digits of a formatted number by thousands.
func commas(s string) string {
	intPart, frac, _ := strings.Cut(s, ".")
	neg := strings.HasPrefix(intPart, "-")
	intPart = strings.TrimPrefix(intPart, "-")
	var b strings.Builder
	for i, c := range intPart {
		if i > 0 && (len(intPart)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	out := b.String()
	if neg {
		out = "-" + out
	}
	if frac != "" {
		out += "." + frac
	}
	return out
}
