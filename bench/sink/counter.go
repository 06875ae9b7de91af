package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"time"
)

// counter holds what the sink has received since the last reset. Its
// methods are safe for concurrent use.
type counter struct {
	prefix string
	bufs   sync.Pool

	mu        sync.Mutex
	messages  int64
	recordedN int64 // messages to a recorded (prefixed) recipient
	rcpts     int64
	bytes     int64
	firstAt   int64  // unix ns of the first unrecorded message since reset, 0 before
	lastAt    int64  // and of the last
	sample    []byte // the first unrecorded message since reset
	arrivals  map[string]int64
}

func newCounter(prefix string) *counter {
	c := &counter{prefix: prefix, arrivals: map[string]int64{}}
	c.bufs.New = func() any { b := make([]byte, 32<<10); return &b }
	return c
}

// deliver reads one message for rcpts and counts it. The first message
// since the reset that goes to no recorded recipient is kept as the sample.
func (c *counter) deliver(rcpts []string, r io.Reader) error {
	recorded := c.recorded(rcpts)
	c.mu.Lock()
	wantSample := c.sample == nil && !recorded
	c.mu.Unlock()
	var sample []byte
	var n int64
	var err error
	if wantSample {
		sample, err = io.ReadAll(r)
		n = int64(len(sample))
	} else {
		buf := c.bufs.Get().(*[]byte)
		n, err = io.CopyBuffer(io.Discard, r, *buf)
		c.bufs.Put(buf)
	}
	if err != nil {
		return err
	}
	c.count(rcpts, recorded, n, sample)
	return nil
}

// recorded says whether any of rcpts has the recorded prefix.
func (c *counter) recorded(rcpts []string) bool {
	for _, to := range rcpts {
		if c.prefix != "" && strings.HasPrefix(to, c.prefix) {
			return true
		}
	}
	return false
}

func (c *counter) count(rcpts []string, recorded bool, n int64, sample []byte) {
	now := time.Now().UnixNano()
	c.mu.Lock()
	defer c.mu.Unlock()
	c.messages++
	c.rcpts += int64(len(rcpts))
	c.bytes += n
	if !recorded {
		if c.firstAt == 0 {
			c.firstAt = now
		}
		c.lastAt = now
	}
	if c.sample == nil && sample != nil {
		c.sample = sample
	}
	if !recorded {
		return
	}
	c.recordedN++
	for _, to := range rcpts {
		if _, seen := c.arrivals[to]; !seen && strings.HasPrefix(to, c.prefix) {
			c.arrivals[to] = now
		}
	}
}

func (c *counter) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.messages, c.recordedN, c.rcpts, c.bytes, c.firstAt, c.lastAt = 0, 0, 0, 0, 0, 0
	c.sample = nil
	c.arrivals = map[string]int64{}
}

func (c *counter) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /count", c.handleCount)
	mux.HandleFunc("POST /reset", func(w http.ResponseWriter, _ *http.Request) { c.reset(); w.WriteHeader(http.StatusNoContent) })
	mux.HandleFunc("GET /sample", c.handleSample)
	mux.HandleFunc("GET /arrivals", c.handleArrivals)
	return mux
}

func (c *counter) handleCount(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	body := map[string]any{"messages": c.messages, "recorded": c.recordedN, "rcpts": c.rcpts, "bytes": c.bytes,
		"first_at": c.firstAt, "last_at": c.lastAt, "cpu_seconds": cpuSeconds()}
	c.mu.Unlock()
	writeJSON(w, body)
}

func (c *counter) handleSample(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	sample := c.sample
	c.mu.Unlock()
	if sample == nil {
		http.Error(w, "no message yet", http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "message/rfc822")
	_, _ = w.Write(sample)
}

func (c *counter) handleArrivals(w http.ResponseWriter, _ *http.Request) {
	c.mu.Lock()
	out := make(map[string]int64, len(c.arrivals))
	for k, v := range c.arrivals {
		out[k] = v
	}
	c.mu.Unlock()
	writeJSON(w, out)
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// cpuSeconds is the user and system CPU the sink has used so far.
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}
