package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Log keys: stable snake_case constants.
const (
	keyError      = "error"
	keyDetail     = "detail"
	keyServer     = "server"
	keySeq        = "seq"
	keyReason     = "reason"
	keyDeliveries = "deliveries"
	keyPosts      = "posts"
)

type publisherMetrics struct {
	posts        *prometheus.CounterVec
	publish      prometheus.Histogram
	backpressure *prometheus.CounterVec
}

func newPublisherMetrics(reg prometheus.Registerer) *publisherMetrics {
	m := &publisherMetrics{
		posts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_intake_posts_total",
			Help: "Posts offered to intake, by result: accepted (stored in the stream), rejected (gate), failed (not stored), duplicate (already in the stream).",
		}, []string{"result"}),
		publish: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "geopulse_intake_publish_seconds",
			Help:    "Time from the first publish of a batch to its last PubAck.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
		backpressure: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_intake_backpressure_total",
			Help: "Batches refused with 429, by cause: lag (workers behind), full (stream at its byte limit), unavailable.",
		}, []string{"cause"}),
	}
	if reg != nil {
		m.posts = register(reg, m.posts)
		m.publish = register(reg, m.publish)
		m.backpressure = register(reg, m.backpressure)
	}
	return m
}

type workerMetrics struct {
	messages     *prometheus.CounterVec
	batch        prometheus.Histogram
	redeliveries prometheus.Counter
	deadLetters  *prometheus.CounterVec
	fetchErrors  prometheus.Counter
	visionLost   prometheus.Counter
}

func newWorkerMetrics(reg prometheus.Registerer) *workerMetrics {
	m := &workerMetrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_worker_messages_total",
			Help: "Stream messages handled by workers, by result: stored, rejected (gate or store said no; final), retried (nak'd for redelivery), dead (dead-lettered).",
		}, []string{"result"}),
		batch: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "geopulse_worker_batch_seconds",
			Help:    "Time to process one fetched batch: decode, pipeline, store commit and acks.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2.5, 12),
		}),
		redeliveries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_worker_redeliveries_total",
			Help: "Messages received more than once (a worker died, timed out or nak'd).",
		}),
		deadLetters: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_worker_dead_letters_total",
			Help: "Messages moved to DEADLETTERS, by reason.",
		}, []string{"reason"}),
		fetchErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_worker_fetch_errors_total",
			Help: "Failed fetches from the workers' consumer (leader changes, disconnects).",
		}),
		visionLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_vision_jobs_lost_total",
			Help: "Stored posts with media whose vision job could not be queued (a replay with vision queues them again).",
		}),
	}
	if reg != nil {
		m.visionLost = register(reg, m.visionLost)
		m.messages = register(reg, m.messages)
		m.batch = register(reg, m.batch)
		m.redeliveries = register(reg, m.redeliveries)
		m.deadLetters = register(reg, m.deadLetters)
		m.fetchErrors = register(reg, m.fetchErrors)
	}
	return m
}

// register registers c, or returns the identical collector registered
// before, so that several publishers or workers in one process count into
// the same series.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(fmt.Sprintf("register nats metrics: %v", err)) // a programmer error: clashing names
	}
	return c
}

// statsCollector reads Stats on every scrape: depth and lag are server-side
// state, so they are gauges sampled when asked rather than counters kept.
type statsCollector struct {
	s                                      *Stream
	up, msgs, bytes, maxBytes, pending     *prometheus.Desc
	ackPending, redelivered, dead, replica *prometheus.Desc
	visionLag                              *prometheus.Desc
}

// Collector returns a Prometheus collector of the stream's depth, the
// workers' lag and the dead letters, read from the server at scrape time.
func (s *Stream) Collector() prometheus.Collector {
	d := func(name, help string) *prometheus.Desc { return prometheus.NewDesc(name, help, nil, nil) }
	return &statsCollector{
		s:           s,
		up:          d("geopulse_stream_up", "1 when the stream answered this scrape."),
		msgs:        d("geopulse_stream_messages", "Messages held in POSTS (the replay window)."),
		bytes:       d("geopulse_stream_bytes", "Bytes held in POSTS."),
		maxBytes:    d("geopulse_stream_max_bytes", "The byte limit of POSTS; at it, intake answers 429 (or drops the oldest, if so configured)."),
		pending:     d("geopulse_consumer_pending", "Posts not yet delivered to any worker."),
		ackPending:  d("geopulse_consumer_ack_pending", "Posts delivered to workers and not yet acknowledged."),
		redelivered: d("geopulse_consumer_redelivered", "Posts delivered more than once and not yet acknowledged."),
		dead:        d("geopulse_dead_letters", "Messages in DEADLETTERS."),
		replica:     d("geopulse_stream_replicas", "Configured replicas of POSTS."),
		visionLag:   d("geopulse_vision_lag", "Vision jobs queued or in progress (stored posts with media not yet labelled)."),
	}
}

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.up, c.msgs, c.bytes, c.maxBytes, c.pending, c.ackPending, c.redelivered, c.dead, c.replica, c.visionLag} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	st, err := c.s.Stats(ctx)
	if err != nil {
		ch <- prometheus.MustNewConstMetric(c.up, prometheus.GaugeValue, 0)
		return
	}
	g := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	g(c.up, 1)
	g(c.msgs, float64(st.Messages))
	g(c.bytes, float64(st.Bytes))
	g(c.maxBytes, float64(st.MaxBytes))
	g(c.pending, float64(st.Pending))
	g(c.ackPending, float64(st.AckPending))
	g(c.redelivered, float64(st.Redelivered))
	g(c.dead, float64(st.DeadLetters))
	g(c.replica, float64(st.Replicas))
	g(c.visionLag, float64(st.VisionLag))
}
