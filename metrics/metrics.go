// Package metrics owns what the service tells Prometheus: counters of
// signups, confirmations and unsubscribes, messages sent and failed per
// newsletter and kind, the SMTP send latency, digest progress, queue
// sizes, and clicks and opens of digests by newsletter. It is served at
// GET /metrics.
package metrics

import (
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Message kinds, the "kind" label of the message counters.
const (
	KindConfirmation = "confirmation"
	KindWelcome      = "welcome"
	KindDigest       = "digest"
)

// Metrics holds the service's collectors in a registry of its own.
type Metrics struct {
	registry      *prometheus.Registry
	Signups       prometheus.Counter
	Confirmations prometheus.Counter
	Unsubscribes  prometheus.Counter
	Sent          *prometheus.CounterVec // by newsletter and kind
	Failed        *prometheus.CounterVec // by newsletter and kind
	SendSeconds   prometheus.Histogram
	Inbound       *prometheus.CounterVec // by outcome: what the inbound listener made of a message
	Clicks        *prometheus.CounterVec // digest link clicks by newsletter and outcome (clicks.go)
	Opens         *prometheus.CounterVec // digest opens by newsletter and outcome (clicks.go)
	// Logger takes the errors of gauge sources, which a scrape never
	// shows; nil: slog's default.
	Logger *slog.Logger
}

// New returns the service's metrics, with Go runtime and process metrics.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		Signups: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsletter_signups_total",
			Help: "Valid signups answered 202, whether or not a confirmation email went out."}),
		Confirmations: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsletter_confirmations_total",
			Help: "Confirmation links that confirmed at least one subscription or answered the same again."}),
		Unsubscribes: prometheus.NewCounter(prometheus.CounterOpts{Name: "newsletter_unsubscribes_total",
			Help: "Unsubscribe requests carried out."}),
		Sent: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsletter_messages_sent_total",
			Help: "Messages accepted by the SMTP server (or written to the outbox)."}, []string{"newsletter", "kind"}),
		Failed: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsletter_messages_failed_total",
			Help: "Messages that failed to send, temporary failures included."}, []string{"newsletter", "kind"}),
		SendSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "newsletter_smtp_send_seconds",
			Help: "Time to hand one message to the SMTP server.", Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		Inbound: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsletter_inbound_messages_total",
			Help: "Messages the inbound listener received, by what it made of them: hard_bounce, soft_bounce, complaint, unsubscribe, ignored (a report of no failure), unattributed (not acted on)."},
			[]string{"outcome"}),
		Clicks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsletter_digest_clicks_total",
			Help: "Clicks on digest links, by newsletter and outcome: counted, or why not (test, agent, burst, scanner, invalid)."},
			[]string{"newsletter", "outcome"}),
		Opens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "newsletter_digest_opens_total",
			Help: "Loads of digests' open pixel (NEWSLETTER_TRACK_OPENS), by newsletter and outcome, as for clicks."},
			[]string{"newsletter", "outcome"}),
	}
	m.registry.MustRegister(m.Signups, m.Confirmations, m.Unsubscribes, m.Sent, m.Failed, m.SendSeconds, m.Inbound, m.Clicks, m.Opens,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// ObserveSend records one send of kind for newsletter nl that took d.
func (m *Metrics) ObserveSend(nl, kind string, d time.Duration, err error) {
	if m == nil {
		return
	}
	m.SendSeconds.Observe(d.Seconds())
	if err != nil {
		m.Failed.WithLabelValues(nl, kind).Inc()
		return
	}
	m.Sent.WithLabelValues(nl, kind).Inc()
}

// Gauges is a source of values read at each scrape, such as queue sizes or
// digest progress: a map from label values to a value.
type Gauges func() (map[[2]string]float64, error)

// AddGauges registers a gauge family whose two labels and values come from
// read at each scrape.
func (m *Metrics) AddGauges(name, help string, labels [2]string, read Gauges) {
	m.registry.MustRegister(&gaugeFunc{name: name, desc: prometheus.NewDesc(name, help, labels[:], nil), read: read, m: m,
		up: prometheus.NewDesc("newsletter_metrics_source_up",
			"1 when the source of a gauge family (Redis, mostly) answered at this scrape, 0 when it failed and the family is left out.",
			nil, prometheus.Labels{"family": name})})
}

// Handler serves the metrics in Prometheus's text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{})
}

// gaugeFunc is a collector of gauges read at scrape time. A source that
// fails (Redis down) leaves its family out of the scrape, sets
// newsletter_metrics_source_up to 0 and logs why; the scrape goes on with
// every other metric, and shows no error text.
type gaugeFunc struct {
	name string
	desc *prometheus.Desc
	up   *prometheus.Desc // newsletter_metrics_source_up of this family
	read Gauges
	m    *Metrics
}

func (g *gaugeFunc) Describe(ch chan<- *prometheus.Desc) { ch <- g.desc; ch <- g.up }

func (g *gaugeFunc) Collect(ch chan<- prometheus.Metric) {
	values, err := g.read()
	if err != nil {
		ch <- prometheus.MustNewConstMetric(g.up, prometheus.GaugeValue, 0)
		logger := g.m.Logger
		if logger == nil {
			logger = slog.Default()
		}
		logger.Warn("A metrics source failed; its gauges are left out of this scrape", "family", g.name, "error", err)
		return
	}
	ch <- prometheus.MustNewConstMetric(g.up, prometheus.GaugeValue, 1)
	for labels, v := range values {
		ch <- prometheus.MustNewConstMetric(g.desc, prometheus.GaugeValue, v, labels[0], labels[1])
	}
}

// CountSignup counts one valid signup.
func (m *Metrics) CountSignup() {
	if m != nil {
		m.Signups.Inc()
	}
}

// CountConfirmation counts one confirmation.
func (m *Metrics) CountConfirmation() {
	if m != nil {
		m.Confirmations.Inc()
	}
}

// CountUnsubscribe counts one unsubscription.
func (m *Metrics) CountUnsubscribe() {
	if m != nil {
		m.Unsubscribes.Inc()
	}
}

// CountInbound counts one message of the inbound listener by outcome.
func (m *Metrics) CountInbound(outcome string) {
	if m != nil {
		m.Inbound.WithLabelValues(outcome).Inc()
	}
}
