package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar: done of total, rate, time left,
// and a note after it.
type progress struct {
	w     io.Writer
	total int64
	start time.Time
	first int64  // done when the bar started: the rate counts what came after
	note  string // shown after the bar, e.g. the last error; may be empty
	width int    // length of the line last drawn, to blank what a shorter one leaves
}

const barWidth = 30

// newProgress returns a bar for total items, none of them done yet; set
// first when some were done before the bar started.
func newProgress(w io.Writer, total int64) *progress {
	return &progress{w: w, total: total, start: time.Now()}
}

// draw redraws the bar for done items at time now.
func (p *progress) draw(done int64, now time.Time) {
	line := p.line(done, now)
	if p.note != "" {
		line += " " + p.note
	}
	n := len([]rune(line))
	pad := strings.Repeat(" ", max(p.width-n, 0))
	p.width = n
	fmt.Fprintf(p.w, "\r%s%s", line, pad)
}

// line is the bar for done items at time now. Once every item is done it
// ends with the average rate since the start, and no time left.
func (p *progress) line(done int64, now time.Time) string {
	frac := 1.0
	if p.total > 0 {
		frac = min(float64(done)/float64(p.total), 1)
	}
	filled := int(frac * barWidth)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled)
	line := fmt.Sprintf("[%s] %d/%d %3.0f%%", bar, done, p.total, frac*100)
	rate := p.rate(done, now)
	switch {
	case done >= p.total && rate == 0: // nothing done while the bar ran
		return line
	case done >= p.total:
		return line + "  " + formatRate(rate)
	case rate == 0:
		return line + "  --/s  -- left"
	}
	left := time.Duration(float64(p.total-done) / rate * float64(time.Second)).Round(time.Second)
	return fmt.Sprintf("%s  %s  %s left", line, formatRate(rate), left)
}

// rate returns the items done per second since the bar started, 0 when
// none were.
func (p *progress) rate(done int64, now time.Time) float64 {
	n, secs := done-p.first, now.Sub(p.start).Seconds()
	if n <= 0 || secs <= 0 {
		return 0
	}
	return float64(n) / secs
}

// formatRate writes r items per second with one decimal below 10.
func formatRate(r float64) string {
	if r < 9.95 {
		return fmt.Sprintf("%.1f/s", r)
	}
	return fmt.Sprintf("%.0f/s", r)
}
