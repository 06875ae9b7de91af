package main

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer safe for a writer and a reader at once.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestLogBufferWritesLinesInBatches logs from many goroutines at once:
// each line arrives whole, after the flush interval at most (give or take
// a busy machine), in each writer's order; Close writes what is left, and
// a line logged after Close is written at once.
func TestLogBufferWritesLinesInBatches(t *testing.T) {
	out := &lockedBuffer{}
	b := newLogBuffer(out)
	fmt.Fprintf(b, "first line\n")
	deadline := time.Now().Add(20 * logFlushEvery)
	for out.String() == "" && time.Now().Before(deadline) {
		time.Sleep(logFlushEvery / 5)
	}
	if got := out.String(); got != "first line\n" {
		t.Fatalf("after the flush interval: %q", got)
	}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 500 {
				fmt.Fprintf(b, "writer=%d line=%d %s\n", g, i, strings.Repeat("x", 100))
			}
		})
	}
	wg.Wait()
	fmt.Fprintf(b, "last line\n")
	b.Close()
	fmt.Fprintf(b, "after close\n")
	if !strings.HasSuffix(out.String(), "last line\nafter close\n") {
		t.Fatalf("a line logged after Close was not written at once: ...%q", out.String()[max(0, len(out.String())-40):])
	}
	lines := strings.Split(strings.TrimSuffix(strings.TrimSuffix(out.String(), "after close\n"), "\n"), "\n")
	if len(lines) != 1+8*500+1 || lines[len(lines)-1] != "last line" {
		t.Fatalf("%d lines, the last %q; want %d, the last \"last line\"", len(lines), lines[len(lines)-1], 1+8*500+1)
	}
	next := make([]int, 8)
	for _, l := range lines[1 : len(lines)-1] {
		var g, i int
		if _, err := fmt.Sscanf(l, "writer=%d line=%d", &g, &i); err != nil || len(l) != len("writer=0 line= ")+len(fmt.Sprint(i))+100 {
			t.Fatalf("line broken up: %q", l)
		}
		if i != next[g] {
			t.Fatalf("writer %d: line %d after %d", g, i, next[g]-1)
		}
		next[g]++
	}
}
