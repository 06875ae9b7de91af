package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// sinkClient talks to bench/sink's HTTP port.
type sinkClient struct {
	base string
	http *http.Client
}

// sinkCount is the sink's /count answer.
type sinkCount struct {
	Messages   int64   `json:"messages"`
	Recorded   int64   `json:"recorded"` // messages to "latency-" recipients
	Rcpts      int64   `json:"rcpts"`
	Bytes      int64   `json:"bytes"`
	FirstAt    int64   `json:"first_at"` // unix ns, unrecorded messages only
	LastAt     int64   `json:"last_at"`
	CPUSeconds float64 `json:"cpu_seconds"`
}

// Others returns how many messages went to unrecorded recipients.
func (c sinkCount) Others() int64 { return c.Messages - c.Recorded }

func newSinkClient(addr string) *sinkClient {
	return &sinkClient{base: "http://" + addr, http: &http.Client{Timeout: 10 * time.Second}}
}

func (s *sinkClient) reset(ctx context.Context) error {
	_, err := s.do(ctx, http.MethodPost, "/reset")
	return err
}

func (s *sinkClient) count(ctx context.Context) (sinkCount, error) {
	var c sinkCount
	raw, err := s.do(ctx, http.MethodGet, "/count")
	if err == nil {
		err = json.Unmarshal(raw, &c)
	}
	return c, err
}

func (s *sinkClient) sample(ctx context.Context) ([]byte, error) {
	return s.do(ctx, http.MethodGet, "/sample")
}

func (s *sinkClient) arrivals(ctx context.Context) (map[string]int64, error) {
	var m map[string]int64
	raw, err := s.do(ctx, http.MethodGet, "/arrivals")
	if err == nil {
		err = json.Unmarshal(raw, &m)
	}
	return m, err
}

// waitFor polls until n unrecorded messages arrived, ctx ends, or stuck
// reports that no more will come.
func (s *sinkClient) waitFor(ctx context.Context, n int64, stuck func(sinkCount) error) (sinkCount, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		c, err := s.count(ctx)
		if err != nil || c.Others() >= n {
			return c, err
		}
		if err := stuck(c); err != nil {
			return c, err
		}
		select {
		case <-ctx.Done():
			return c, ctx.Err()
		case <-tick.C:
		}
	}
}

func (s *sinkClient) do(ctx context.Context, method, path string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, s.base+path, nil)
	if err != nil {
		return nil, err
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode >= 300 {
		err = fmt.Errorf("sink %s %s: %s", method, path, resp.Status)
	}
	return body, err
}
