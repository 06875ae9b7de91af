package api

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// serveWithTimeout serves r with h in ctx, and answers 503 with
// timeoutBody when h has not answered within d, as http.TimeoutHandler
// does, but runs h in the request's own goroutine instead of a new one
// per request (whose stack would grow anew through Gin and the Redis
// client every time). h writes into a buffer; at the deadline a timer
// writes the 503 and flushes it, so the client has its answer then, and
// what h writes afterwards is dropped. The request's context ends at the
// deadline, so the handler's next Redis call fails at once (one under way
// ends at the client's read timeout). The answer is buffered whole, so a
// streaming route would need to bypass it. The buffers are pooled: a
// writer goes back to the pool only when its timer was stopped in time,
// so a late 503 never writes into another request's.
func serveWithTimeout(ctx context.Context, h http.Handler, w http.ResponseWriter, r *http.Request, d time.Duration) {
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	tw := timeoutWriters.Get().(*timeoutWriter)
	tw.w = w
	stop := context.AfterFunc(ctx, func() { // the request's one timer: its context's
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			tw.timeout()
		}
	})
	h.ServeHTTP(tw, r.WithContext(ctx))
	tw.finish()
	if stop() && tw.buf.Cap() <= maxPooledAnswer {
		tw.reset()
		timeoutWriters.Put(tw)
	}
}

// maxPooledAnswer is the largest answer buffer kept for another request:
// a big page's does not stay in memory for small answers.
const maxPooledAnswer = 64 << 10

// timeoutWriters are the writers of requests that have finished.
var timeoutWriters = sync.Pool{New: func() any { return &timeoutWriter{h: make(http.Header)} }}

// timeoutWriter buffers a handler's answer until it is done or too late.
type timeoutWriter struct {
	w http.ResponseWriter

	mu       sync.Mutex
	h        http.Header
	buf      bytes.Buffer
	code     int
	timedOut bool // the 503 went out: the handler's answer is dropped
	done     bool // the handler's answer went out: no 503
}

// reset empties tw for another request.
func (tw *timeoutWriter) reset() {
	tw.w = nil
	clear(tw.h)
	tw.buf.Reset()
	tw.code, tw.timedOut, tw.done = 0, false, false
}

// Header returns the handler's header map, copied into the answer at the end.
func (tw *timeoutWriter) Header() http.Header { return tw.h }

// Write buffers p, or fails with http.ErrHandlerTimeout once too late.
func (tw *timeoutWriter) Write(p []byte) (int, error) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return 0, http.ErrHandlerTimeout
	}
	if tw.code == 0 {
		tw.code = http.StatusOK
	}
	return tw.buf.Write(p)
}

// WriteHeader keeps the first status code.
func (tw *timeoutWriter) WriteHeader(code int) {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut || tw.code != 0 {
		return
	}
	tw.code = code
}

// finish sends the handler's answer, unless the 503 went out first.
func (tw *timeoutWriter) finish() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.timedOut {
		return
	}
	tw.done = true
	dst := tw.w.Header()
	for k, vv := range tw.h {
		dst[k] = vv
	}
	if tw.code == 0 {
		tw.code = http.StatusOK
	}
	tw.w.WriteHeader(tw.code)
	_, _ = tw.w.Write(tw.buf.Bytes())
}

// timeout sends the 503, unless the handler's answer went out first.
func (tw *timeoutWriter) timeout() {
	tw.mu.Lock()
	defer tw.mu.Unlock()
	if tw.done {
		return
	}
	tw.timedOut = true
	h := tw.w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	// The length ends the answer now, though the handler runs on; and the
	// connection is not kept for another request meanwhile.
	h.Set("Content-Length", strconv.Itoa(len(timeoutBody)))
	h.Set("Connection", "close")
	tw.w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = tw.w.Write(timeoutBody)
	if f, ok := tw.w.(http.Flusher); ok {
		f.Flush()
	}
}
