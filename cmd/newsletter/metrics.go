package main

import (
	"context"
	"time"

	"newsletter/metrics"
	"newsletter/worker"
)

// newMetrics returns the service's metrics, with the gauges read from
// Redis at each scrape: queue sizes and the progress of unfinished digests.
func (m *Main) newMetrics(p parts) *metrics.Metrics {
	mt := metrics.New()
	mt.Logger = m.Logger
	queues := worker.QueueSizes(m.rdb)
	mt.AddGauges("newsletter_queue_tasks", "Tasks in each asynq queue, by state; confirmation emails in the outbox as queue confirm, state outbox (waiting for the relay) and outbox_dead (unreadable, moved aside).",
		[2]string{"queue", "state"}, func() (map[[2]string]float64, error) {
			out, err := queues()
			if err != nil {
				return nil, err
			}
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			waiting, dead, err := p.store.PendingConfirmations(ctx)
			if err == nil {
				out[[2]string{worker.QueueConfirm, "outbox"}] = float64(waiting)
				out[[2]string{worker.QueueConfirm, "outbox_dead"}] = float64(dead)
			}
			return out, nil // the queues' sizes still, when the outbox's are not to be had
		})
	mt.AddGauges("newsletter_digest_recipients", "Recipients of each unfinished digest, by outcome so far.",
		[2]string{"digest", "outcome"}, func() (map[[2]string]float64, error) {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			defer cancel()
			all, err := p.store.Newsletters(ctx)
			if err != nil {
				return nil, err
			}
			out := map[[2]string]float64{}
			for _, n := range all {
				list, err := p.digests.Unfinished(ctx, n.ID)
				if err != nil {
					return nil, err
				}
				for _, d := range list {
					out[[2]string{d.ID, "total"}] = float64(d.Counts.Total)
					out[[2]string{d.ID, "sent"}] = float64(d.Counts.Sent)
					out[[2]string{d.ID, "failed"}] = float64(d.Counts.Failed)
					out[[2]string{d.ID, "skipped"}] = float64(d.Counts.Skipped)
				}
			}
			return out, nil
		})
	return mt
}
