package main

import (
	"io"
	"sync"
	"time"
)

// Log lines are written in batches: one write a request would cost a busy
// server a system call each (3% of its CPU at 10,000 signups a second).
const (
	logFlushEvery = 50 * time.Millisecond // the longest a line waits
	logBufferMax  = 64 << 10              // a fuller buffer is written at once
)

// logBuffer collects the service's log lines and writes them to w at
// most logFlushEvery after they were logged, or as soon as logBufferMax
// bytes wait. Each Write is kept whole (slog writes one line a call).
// Output that does not go through it (the runtime's, say) can come out of
// order with the batched lines.
// Close writes what is left; the runtime's own output of a crash (a
// panic's trace) goes to the process's stderr directly, so at most the
// last logFlushEvery of lines can be lost with it.
type logBuffer struct {
	w io.Writer

	mu     sync.Mutex
	buf    []byte
	closed bool // lines go straight to w

	writing sync.Mutex // one write to w at a time, in order
	spare   []byte     // the buffer written last, for the next batch; under writing
	stop    chan struct{}
	done    chan struct{}
}

// newLogBuffer starts a logBuffer writing to w.
func newLogBuffer(w io.Writer) *logBuffer {
	b := &logBuffer{w: w, stop: make(chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// Write keeps p for the next batch, or writes it at once after Close.
func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		b.writing.Lock()
		defer b.writing.Unlock()
		return b.w.Write(p)
	}
	b.buf = append(b.buf, p...)
	full := len(b.buf) >= logBufferMax
	b.mu.Unlock()
	if full {
		b.Flush()
	}
	return len(p), nil
}

// Flush writes what waits.
func (b *logBuffer) Flush() {
	b.writing.Lock()
	defer b.writing.Unlock()
	b.mu.Lock()
	out := b.buf
	b.buf, b.spare = b.spare[:0], nil
	b.mu.Unlock()
	if len(out) > 0 {
		_, _ = b.w.Write(out)
	}
	if cap(out) <= 4*logBufferMax {
		b.spare = out[:0]
	}
}

// run flushes every logFlushEvery until Close.
func (b *logBuffer) run() {
	defer close(b.done)
	t := time.NewTicker(logFlushEvery)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			b.Flush()
		case <-b.stop:
			return
		}
	}
}

// Close stops the batches and writes what is left; lines logged after it
// (by a goroutine that outlives the service) are written at once.
func (b *logBuffer) Close() {
	close(b.stop)
	<-b.done
	b.writing.Lock()
	b.mu.Lock()
	out := b.buf
	b.buf, b.closed = nil, true
	b.mu.Unlock()
	if len(out) > 0 {
		_, _ = b.w.Write(out)
	}
	b.writing.Unlock()
}
