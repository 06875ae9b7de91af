package main

import "runtime/debug"

// serveGCPercent is the garbage collector's target for `newsletter serve`
// when GOGC is not set: the API's live heap is a few megabytes of
// short-lived request garbage, so collecting at 5× the live heap instead
// of 2× costs some 20 MB and saves 6–10% of its CPU per signup (alternated
// closed-loop runs, docs/performance-history.md). The worker keeps Go's
// default: its heap holds a batch's messages and its peak RSS is a target.
const serveGCPercent = 400

// tuneGC sets serve's garbage collector target unless the operator chose
// one with GOGC.
func tuneGC(mode Mode, getenv func(string) string) {
	if mode == ModeServe && getenv("GOGC") == "" {
		debug.SetGCPercent(serveGCPercent)
	}
}
