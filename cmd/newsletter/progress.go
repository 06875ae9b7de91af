package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// progress draws a one-line progress bar: done of total, rate, time left.
type progress struct {
	w     io.Writer
	total int64
	start time.Time
	first int64
}

const barWidth = 30

func newProgress(w io.Writer, total int64) *progress {
	return &progress{w: w, total: total, start: time.Now(), first: -1}
}

// draw redraws the bar for done items at time now.
func (p *progress) draw(done int64, now time.Time) {
	if p.first < 0 {
		p.first = done
	}
	fmt.Fprintf(p.w, "\r%s", p.line(done, now))
}

func (p *progress) line(done int64, now time.Time) string {
	frac := 1.0
	if p.total > 0 {
		frac = float64(done) / float64(p.total)
	}
	filled := int(frac * barWidth)
	bar := strings.Repeat("=", filled) + strings.Repeat(" ", barWidth-filled)
	elapsed := now.Sub(p.start).Seconds()
	rate := 0.0
	if elapsed > 0 {
		rate = float64(done-p.first) / elapsed
	}
	left := "--"
	if rate > 0 {
		left = (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second).String()
	}
	return fmt.Sprintf("[%s] %d/%d %3.0f%%  %.0f/s  %s left ", bar, done, p.total, frac*100, rate, left)
}
