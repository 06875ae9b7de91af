package main

import (
	"context"
	"sync"
	"time"

	"newsletter/digests"
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
	latest := perScrape(func(ctx context.Context) ([]*digests.Digest, error) { return latestDigests(ctx, p) })
	mt.AddGauges("newsletter_digest_article_clicks", "Clicks counted on each article of each newsletter's latest digest sent to readers (aggregate only; scanners left out).",
		[2]string{"digest", "article"}, articleGauges(latest, func(a digests.ArticleClicks) int64 { return a.Clicks }))
	mt.AddGauges("newsletter_digest_article_unique_clickers", "Estimated unique clickers (a daily salted hash in a HyperLogLog) of each article of each newsletter's latest digest sent to readers.",
		[2]string{"digest", "article"}, articleGauges(latest, func(a digests.ArticleClicks) int64 { return a.Unique }))
	return mt
}

// articleGauges reads, at each scrape, a value per article of the digests
// that list returns.
func articleGauges(list func(context.Context) ([]*digests.Digest, error), value func(digests.ArticleClicks) int64) metrics.Gauges {
	return func() (map[[2]string]float64, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		ds, err := list(ctx)
		if err != nil {
			return nil, err
		}
		out := map[[2]string]float64{}
		for _, d := range ds {
			for _, a := range d.Clicks.Articles {
				out[[2]string{d.ID, a.ID}] = float64(value(a))
			}
		}
		return out, nil
	}
}

// latestLookBack is how many of a newsletter's newest digests
// latestDigests looks through for one that went to readers.
const latestLookBack = 10

// latestDigests returns each newsletter's latest digest that went to its
// readers (sending or sent; not a test), among its latestLookBack newest:
// the per-article click gauges cover these only, so that their labels
// stay few (the API has every digest's).
func latestDigests(ctx context.Context, p parts) ([]*digests.Digest, error) {
	all, err := p.store.Newsletters(ctx)
	if err != nil {
		return nil, err
	}
	var out []*digests.Digest
	for _, n := range all {
		list, _, err := p.digests.History(ctx, n.ID, 0, latestLookBack)
		if err != nil {
			return nil, err
		}
		for _, d := range list {
			if !d.IsTest() && (d.Status == digests.StatusSending || d.Status == digests.StatusSent) {
				if err := p.digests.Engagement(ctx, d); err != nil {
					return nil, err
				}
				out = append(out, d)
				break
			}
		}
	}
	return out, nil
}

// scrapeReuse is how long one reading of the latest digests serves the
// gauges that share it: the gauges of one scrape are read within it.
const scrapeReuse = 2 * time.Second

// perScrape returns list reading at most once per scrape: the gauges that
// call it in the same scrape (within scrapeReuse of the first) share one
// reading and its error.
func perScrape(list func(context.Context) ([]*digests.Digest, error)) func(context.Context) ([]*digests.Digest, error) {
	var mu sync.Mutex
	var at time.Time
	var last []*digests.Digest
	var lastErr error
	return func(ctx context.Context) ([]*digests.Digest, error) {
		mu.Lock()
		defer mu.Unlock()
		if at.IsZero() || time.Since(at) >= scrapeReuse {
			last, lastErr = list(ctx)
			at = time.Now()
		}
		return last, lastErr
	}
}
