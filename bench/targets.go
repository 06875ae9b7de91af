package main

import (
	"fmt"
	"io"
	"math"
)

// targetN is the subscriber count the targets name.
const targetN = 100_000

// printTargets compares the medians with the targets. A fan-out
// target is checked at 100,000 subscribers, or at the largest count run
// when that is smaller, which the table says.
func printTargets(w io.Writer, s *summary, topo string) {
	fmt.Fprintf(w, "\n### Against the targets, Redis %s\n", topo)
	fmt.Fprintf(w, "\n| target | measured | verdict |\n|---|---|---|\n")
	at, ok := fanoutAt(s.Fanout)
	where := ""
	if ok && at.N != targetN {
		where = fmt.Sprintf(" (at %s subscribers, not %s)", count(at.N), count(targetN))
	}
	check := func(name string, v float64, unit string, prec int, pass func(float64) bool) {
		verdict := "not measured"
		if !math.IsNaN(v) {
			verdict = map[bool]string{true: "meets", false: "misses"}[pass(v)]
		}
		fmt.Fprintf(w, "| %s | %s%s%s | %s |\n", name, num(v, prec), unit, where, verdict)
	}
	if ok { // the fan-out targets, when a fan-out count ran
		printFanoutTargets(check, at.get)
	}
	where = ""
	if len(s.Load) > 0 {
		printLoadTargets(w, s, check)
	}
	printClosedTargets(w, s.Closed)
}

// printFanoutTargets checks the fan-out's targets.
func printFanoutTargets(check func(string, float64, string, int, func(float64) bool), get func(string) float64) {
	check("fan-out ≥ 85% of the raw limit", 100*get("of_limit"), "%", 0, func(v float64) bool { return v >= 85 })
	check("fan-out ≥ 85% of the pipelined raw client (one round trip a message), same connections", 100*get("of_pipelined"), "%", 0, func(v float64) bool { return v >= 85 })
	check("service CPU ≤ 0.25 s per 1,000 messages", get("service_cpu_1k"), " s", 3, func(v float64) bool { return v <= 0.25 })
	check("worker peak RSS < 100 MB", get("worker_rss_mb"), " MB", 1, func(v float64) bool { return v < 100 })
	check("Redis < 300 B per confirmed subscriber (INFO)", get("redis_b_sub"), " B", 0, func(v float64) bool { return v < 300 })
	check("confirmation p95 < 5 s during the digest", get("latency_p95_ms")/1000, " s", 2, func(v float64) bool { return v < 5 })
}

// printLoadTargets checks the fixed-rate subscribe load's targets.
func printLoadTargets(w io.Writer, s *summary, check func(string, float64, string, int, func(float64) bool)) {
	api, base := bestSustained(s.Load, "api-alone"), bestSustained(s.Load, "baseline")
	check("subscribe API (serve alone, as the baseline) ≥ 3,000 signups/s with p99 < 50 ms (highest rate held)", api, "/s", 0, func(v float64) bool { return v >= 3000 })
	withWorker := bestSustained(s.Load, "api")
	fmt.Fprintf(w, "| the same with the worker sending every confirmation on the same 2 cores (for information) | %s/s | – |\n", num(withWorker, 0))
	verdict := "not measured"
	if !math.IsNaN(api) && !math.IsNaN(base) {
		verdict = map[bool]string{true: "meets", false: "misses"}[api > 0 && base <= 2*api]
	}
	fmt.Fprintf(w, "| API's highest held rate within 2x of the baseline's | API %s/s, baseline %s/s | %s |\n", num(api, 0), num(base, 0), verdict)
}

// printClosedTargets checks, at each connection count that both ran, the
// closed-loop target: the API answers at least half the baseline's
// requests per second (2xx), with p99 under 20 ms.
func printClosedTargets(w io.Writer, rows []summaryRow) {
	base := map[int]summaryRow{}
	for _, r := range rows {
		if r.Kind == "baseline-closed" {
			base[r.Connections] = r
		}
	}
	for _, r := range rows {
		b, ok := base[r.Connections]
		if r.Kind != "api-closed" || !ok {
			continue
		}
		ratio := r.get("per_s") / b.get("per_s")
		failed := r.get("non_2xx") + r.get("errors")
		note := ""
		if failed > 0 {
			note = fmt.Sprintf("; %s non-2xx or errors", num(failed, 0))
		}
		fmt.Fprintf(w, "| subscribe API closed loop, %d connections: ≥ 50%% of the baseline's requests/s, p99 < 20 ms | %s/s, p99 %s ms: %s of the baseline's %s/s (p99 %s ms)%s | %s |\n",
			r.Connections, num(r.get("per_s"), 0), num(r.get("p99_ms"), 1), pct(ratio), num(b.get("per_s"), 0), num(b.get("p99_ms"), 1), note,
			map[bool]string{true: "meets", false: "misses"}[ratio >= 0.5 && r.get("p99_ms") < 20])
	}
	printClosedMaximum(w, rows)
}

// closedP99Limit is the latency under which a closed-loop rate counts.
const closedP99Limit = 20.0 // ms

// printClosedMaximum checks the closed-loop maximum: the highest rate each
// server held with p99 under closedP99Limit, at whichever connection count
// it was, the API's against the baseline's.
func printClosedMaximum(w io.Writer, rows []summaryRow) {
	best := map[string]summaryRow{}
	for _, r := range rows {
		if r.get("p99_ms") >= closedP99Limit || r.get("non_2xx")+r.get("errors") > 0 {
			continue
		}
		if b, ok := best[r.Kind]; !ok || r.get("per_s") > b.get("per_s") {
			best[r.Kind] = r
		}
	}
	a, okA := best["api-closed"]
	b, okB := best["baseline-closed"]
	if !okA || !okB {
		return
	}
	ratio := a.get("per_s") / b.get("per_s")
	fmt.Fprintf(w, "| subscribe API closed-loop maximum (the best connection count of each, p99 < 20 ms): ≥ 50%% of the baseline's | %s/s at %d connections (p99 %s ms): %s of the baseline's %s/s at %d (p99 %s ms) | %s |\n",
		num(a.get("per_s"), 0), a.Connections, num(a.get("p99_ms"), 1), pct(ratio), num(b.get("per_s"), 0), b.Connections, num(b.get("p99_ms"), 1),
		map[bool]string{true: "meets", false: "misses"}[ratio >= 0.5])
}

// fanoutAt returns the row of targetN subscribers, else the largest run.
func fanoutAt(rows []summaryRow) (summaryRow, bool) {
	var best summaryRow
	found := false
	for _, r := range rows {
		if r.N == targetN {
			return r, true
		}
		if !found || r.N > best.N {
			best, found = r, true
		}
	}
	return best, found
}

// bestSustained returns the highest rate that kind held: throughput within
// 1% of the rate, 99.9% success and p99 under 50 ms. NaN when none was run;
// 0 when none was held.
func bestSustained(rows []summaryRow, kind string) float64 {
	best, seen := 0.0, false
	for _, r := range rows {
		if r.Kind != kind {
			continue
		}
		seen = true
		held := r.get("throughput") >= 0.99*float64(r.Rate) && r.get("success") >= 0.999 && r.get("p99_ms") < 50
		if held && float64(r.Rate) > best {
			best = float64(r.Rate)
		}
	}
	if !seen {
		return math.NaN()
	}
	return best
}
