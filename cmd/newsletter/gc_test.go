package main

import (
	"runtime/debug"
	"testing"
)

func TestServeCollectsGarbageLessOften(t *testing.T) {
	prev := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(prev) })
	env := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }
	for _, tc := range []struct {
		mode Mode
		vars map[string]string
		want int
	}{
		{ModeServe, nil, serveGCPercent},
		{ModeServe, map[string]string{"GOGC": "150"}, 100}, // the operator's choice stands (Go applied it at start)
		{ModeWorker, nil, 100},
		{ModeAll, nil, 100},
	} {
		debug.SetGCPercent(100)
		tuneGC(tc.mode, env(tc.vars))
		if got := debug.SetGCPercent(100); got != tc.want {
			t.Errorf("tuneGC(%s, %v): GC percent %d, want %d", tc.mode, tc.vars, got, tc.want)
		}
	}
}
