package main

import (
	"context"
	"fmt"
	"time"
)

// fanoutResult is one digest sent to n subscribers by the real service.
type fanoutResult struct {
	Seconds       float64        `json:"seconds"`               // from POST .../digests to the n-th message at the sink
	FirstSeconds  float64        `json:"first_message_seconds"` // from POST .../digests to the first message at the sink
	PerSecond     float64        `json:"per_second"`
	WorkerCPU     float64        `json:"worker_cpu_seconds"`
	ServeCPU      float64        `json:"serve_cpu_seconds"`
	RedisCPU      float64        `json:"redis_cpu_seconds"` // the whole instance
	SinkCPU       float64        `json:"sink_cpu_seconds"`
	WorkerPeakRSS int64          `json:"worker_peak_rss_bytes"` // VmHWM
	HTMLBytes     int            `json:"html_bytes"`            // the digest's HTML, as the preview renders it
	Sent          int64          `json:"sent"`
	Failed        int64          `json:"failed"`
	Skipped       int64          `json:"skipped"`
	Status        string         `json:"status"`
	seedMeasure                  // Redis memory
	Latency       *latencyResult `json:"confirmation_latency,omitempty"`
}

// seedMeasure is the Redis memory that seeding took.
type seedMeasure struct {
	SeedSeconds          float64 `json:"seed_seconds"`
	BytesPerSub          float64 `json:"redis_bytes_per_subscriber"`         // INFO used_memory delta / n
	SampledPerSub        float64 `json:"redis_sampled_bytes_per_subscriber"` // MEMORY USAGE estimate
	ConsentBytesPerSub   float64 `json:"redis_bytes_per_subscriber_with_consent,omitempty"`
	ConsentSampledPerSub float64 `json:"redis_sampled_bytes_per_subscriber_with_consent,omitempty"`
}

// fanout seeds n subscribers, starts the service, and sends one digest to
// all of them, measuring it.
func (e *env) fanout(ctx context.Context, r, n int, fr *fanoutRow) error {
	if err := e.topo.flush(ctx); err != nil {
		return err
	}
	res := &fanoutResult{}
	fr.Fanout = res
	if err := e.seed(ctx, n, &res.seedMeasure); err != nil {
		return err
	}
	svc, err := e.startService(ctx, fmt.Sprintf("run%d-fanout-%d", r, n))
	if err != nil {
		return err
	}
	defer svc.stop()
	if err := e.prepareDigest(ctx, svc.api, res); err != nil {
		return err
	}
	if err := e.sendDigest(ctx, r, n, svc, res); err != nil {
		return err
	}
	fr.sample, err = e.sink.sample(ctx)
	return err
}

// seed writes n confirmed subscribers and measures what Redis holds for them.
func (e *env) seed(ctx context.Context, n int, m *seedMeasure) error {
	before, err := usedMemory(ctx, e.rdb)
	if err != nil {
		return err
	}
	now, start := time.Now(), time.Now()
	imported := e.opt.seedVia == "import"
	seed, err := e.topo.seedFor(e.opt.seedVia)
	if err != nil {
		return err
	}
	if err := seed(ctx, n, now); err != nil {
		return err
	}
	m.SeedSeconds = time.Since(start).Seconds()
	audience := benchNewsletter // the newsletter whose audiences the sample measures
	// An import leaves a consent record of its own: count it in.
	if m.BytesPerSub, m.SampledPerSub, err = e.memoryPerSub(ctx, before, audience, n, imported); err != nil || imported || !e.opt.consent {
		return err
	}
	if err := seedConsent(ctx, e.topo.node, benchNewsletter, n, now); err != nil {
		return err
	}
	m.ConsentBytesPerSub, m.ConsentSampledPerSub, err = e.memoryPerSub(ctx, before, audience, n, true)
	return err
}

func (e *env) memoryPerSub(ctx context.Context, before int64, audience string, n int, consent bool) (info, sampled float64, err error) {
	after, err := usedMemory(ctx, e.rdb)
	if err != nil {
		return 0, 0, err
	}
	sampled, err = sampledBytesPerSubscriber(ctx, e.rdb, audience, n, consent)
	return float64(after-before) / float64(n), sampled, err
}

// prepareDigest creates the newsletter and its ten articles.
func (e *env) prepareDigest(ctx context.Context, api *apiClient, res *fanoutResult) error {
	if err := api.putNewsletter(ctx); err != nil {
		return err
	}
	if err := api.addArticles(ctx, 10, e.opt.articleBytes); err != nil {
		return err
	}
	var err error
	res.HTMLBytes, err = api.previewBytes(ctx)
	return err
}

// usage is the CPU that the processes involved have used so far.
// usage is CPU seconds used so far by each process; load is the bench's
// own, the load generator's.
type usage struct{ worker, serve, redis, sink, load float64 }

func (e *env) usage(ctx context.Context, svc *service) (usage, error) {
	var u usage
	var err error
	if svc != nil {
		if u.worker, u.serve, err = svc.procCPUs(); err != nil {
			return u, err
		}
	}
	if u.redis, err = redisCPU(ctx, e.rdb); err != nil {
		return u, err
	}
	c, err := e.sink.count(ctx)
	u.sink = c.CPUSeconds
	return u, err
}

// sendDigest creates the digest, sends the latency probes meanwhile, and
// waits until the sink has n digest messages.
func (e *env) sendDigest(ctx context.Context, r, n int, svc *service, res *fanoutResult) error {
	if err := e.sink.reset(ctx); err != nil {
		return err
	}
	before, err := e.usage(ctx, svc)
	if err != nil {
		return err
	}
	t0 := time.Now()
	d, err := svc.api.createDigest(ctx)
	if err != nil {
		return err
	}
	if d.Counts.Total != int64(n) {
		return fmt.Errorf("digest %s has %d recipients, want %d", d.ID, d.Counts.Total, n)
	}
	probes := e.startProbes(ctx, svc.api, fmt.Sprintf("r%d-n%d", r, n))
	c, err := e.sink.waitFor(ctx, int64(n), e.stuck(ctx, svc, d.ID, n))
	if err != nil {
		probes.stop()
		return fmt.Errorf("digest to %d: %w (logs in %s)", n, err, e.dir)
	}
	after, err := e.usage(ctx, svc)
	if err != nil {
		return err
	}
	if res.WorkerPeakRSS, err = procPeakRSS(svc.worker.pid()); err != nil {
		return err
	}
	res.Seconds = float64(c.LastAt-t0.UnixNano()) / 1e9
	res.FirstSeconds = float64(c.FirstAt-t0.UnixNano()) / 1e9
	res.PerSecond = float64(n) / res.Seconds
	res.WorkerCPU, res.ServeCPU = after.worker-before.worker, after.serve-before.serve
	res.RedisCPU, res.SinkCPU = after.redis-before.redis, after.sink-before.sink
	res.Latency = probes.result(ctx, e.sink)
	return e.finalCounts(ctx, svc.api, d.ID, res)
}

// stuck returns a check, for waitFor, that fails once the digest finished
// or the service died without the sink having every message, or the wait
// is far longer than any sane run.
func (e *env) stuck(ctx context.Context, svc *service, id string, n int) func(sinkCount) error {
	limit := time.Now().Add(2*time.Minute + time.Duration(n)*5*time.Millisecond)
	var lastLook, finishedAt time.Time
	return func(c sinkCount) error {
		if err := svc.exited(); err != nil {
			return err
		}
		if time.Now().After(limit) {
			return fmt.Errorf("only %d of %d messages arrived in time", c.Others(), n)
		}
		if time.Since(lastLook) < time.Second {
			return nil
		}
		lastLook = time.Now()
		d, err := svc.api.getDigest(ctx, id)
		if err != nil || !d.finished() {
			return err
		}
		if finishedAt.IsZero() {
			finishedAt = time.Now()
		} else if time.Since(finishedAt) > 5*time.Second {
			return fmt.Errorf("digest is %s (%+v) but only %d of %d messages arrived", d.Status, d.Counts, c.Others(), n)
		}
		return nil
	}
}

// finalCounts waits briefly for the digest to be marked finished and keeps
// its counts.
func (e *env) finalCounts(ctx context.Context, api *apiClient, id string, res *fanoutResult) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		d, err := api.getDigest(ctx, id)
		if err != nil {
			return err
		}
		if d.finished() || time.Now().After(deadline) {
			res.Status, res.Sent, res.Failed, res.Skipped = d.Status, d.Counts.Sent, d.Counts.Failed, d.Counts.Skipped
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
}
