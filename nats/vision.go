package nats

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Vision runs behind the pipeline, not beside it: a pipeline worker that
// has stored a post with media inside some place publishes it to VISION,
// and vision workers label it from there. So vision never sees a post the
// gate refused or the store does not hold, never spends CPU on posts no
// workspace looks at, and, however far behind it falls, never slows intake
// or the pipeline: VISION drops its oldest jobs when full.
const (
	// StreamVision holds the labelling jobs: stored posts with media.
	// Finished jobs stay until MaxAge or the byte limit, like POSTS.
	StreamVision = "VISION"
	// ConsumerVision is the durable pull consumer all vision workers share.
	ConsumerVision = "vision"

	subjectVision = "geopulse.vision."
)

// ReasonVisionFailed is the dead-letter reason of a job that kept failing
// (media unreachable, inference errors).
const ReasonVisionFailed = "vision_failed"

// visionMaxBytes bounds VISION; beyond it the oldest jobs go.
const visionMaxBytes = 1 << 30

func (s *Stream) setupVision(ctx context.Context) error {
	sc := jetstream.StreamConfig{
		Name:        StreamVision,
		Description: "Stored posts with media, waiting for the vision workers.",
		Subjects:    []string{subjectVision + ">"},
		// Limits, not work-queue, retention: a purge (erasure) reads the
		// stream with its own ordered consumer, which a work queue forbids.
		Retention:  jetstream.LimitsPolicy,
		Storage:    jetstream.FileStorage,
		MaxAge:     s.cfg.MaxAge,
		MaxBytes:   visionMaxBytes,
		Discard:    jetstream.DiscardOld,
		Duplicates: s.cfg.Duplicates,
		Replicas:   s.cfg.Replicas,
		MaxMsgSize: MaxMessageBytes,
	}
	if err := retryUnavailable(ctx, func(ctx context.Context) error {
		_, err := s.js.CreateOrUpdateStream(ctx, sc)
		return err
	}); err != nil {
		return fmt.Errorf("set up stream %s: %w", StreamVision, err)
	}
	cc := jetstream.ConsumerConfig{
		Durable:       ConsumerVision,
		Description:   "geopulse vision workers: media → labels, shared by all worker processes.",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		// A job fetches media and runs two models: give it time.
		AckWait:       2 * time.Minute,
		MaxDeliver:    -1,
		MaxAckPending: 1024,
		MaxWaiting:    512,
	}
	if err := retryUnavailable(ctx, func(ctx context.Context) error {
		_, err := s.js.CreateOrUpdateConsumer(ctx, StreamVision, cc)
		return err
	}); err != nil {
		return fmt.Errorf("set up consumer %s: %w", ConsumerVision, err)
	}
	return nil
}

// PipelineBusy returns a check that the pipeline workers are more than
// maxLag posts behind, reading the lag at most every 500 ms.
func (s *Stream) PipelineBusy(maxLag int64) func() bool {
	var mu sync.Mutex
	var at time.Time
	var busy bool
	return func() bool {
		mu.Lock()
		defer mu.Unlock()
		if time.Since(at) >= 500*time.Millisecond {
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
			lag, err := s.Lag(ctx)
			cancel()
			busy, at = err == nil && lag > maxLag, time.Now()
		}
		return busy
	}
}

// wantsVision reports whether a stored post is worth labelling: it has
// media that still exists at the source and lies in some place.
func wantsVision(p *geopulse.Post, now time.Time) bool {
	return len(p.MediaURLs) > 0 && len(p.PlaceIDs) > 0 && !p.Expired &&
		(p.ExpiresAt == nil || p.ExpiresAt.After(now))
}

// visionJob is a stored post and the stream message it came in: the job
// carries the message's bytes as they are, so queueing it costs no
// encoding, and its id derives from the message's own.
type visionJob struct {
	post *geopulse.Post // enriched by the pipeline (PlaceIDs); nil: not stored
	msg  jetstream.Msg
}

// publishVision queues the posts worth labelling, waits for the stream to
// take them and returns how many it queued and how many it could not. A
// lost job is logged, not retried: the post is stored, and a replay with
// vision queues it again.
func (s *Stream) publishVision(ctx context.Context, jobs []visionJob) (queued, lost int) {
	now := time.Now()
	var futures []jetstream.PubAckFuture
	for _, j := range jobs {
		if j.post == nil || !wantsVision(j.post, now) {
			continue
		}
		body := j.msg.Data()
		id := ""
		if h := j.msg.Headers(); h != nil {
			id = h.Get(jetstream.MsgIDHeader)
		}
		msg := &natsgo.Msg{Subject: subjectVision + subject(j.post.Source)[len(subjectPosts):], Data: body, Header: natsgo.Header{}}
		msg.Header.Set(jetstream.MsgIDHeader, "vision-"+cmp.Or(id, MsgID(body)))
		f, err := s.js.PublishMsgAsync(msg)
		if err != nil {
			lost++
			continue
		}
		futures = append(futures, f)
	}
	if len(futures) == 0 {
		return 0, lost
	}
	timeout := time.NewTimer(s.cfg.PublishTimeout)
	defer timeout.Stop()
	failed := 0
	for _, f := range futures {
		select {
		case <-f.Ok():
		case <-f.Err():
			failed++
		case <-timeout.C:
			failed++
		case <-ctx.Done():
			failed++
		}
	}
	if lost += failed; lost > 0 {
		s.logger.Warn("vision jobs not queued", slog.Int(keyPosts, lost))
	}
	return len(futures) - failed, lost
}

// MediaLabeller labels a post's media. An error that is a *geopulse.Error
// (other than EINTERNAL) is final for the post — media refused by the fetch
// rules, not an image, too large — and the job ends without labels; any
// other error (timeouts, 5xx, an inference failure) is retried with backoff
// and dead-lettered after MaxDeliver deliveries.
type MediaLabeller interface {
	LabelMedia(ctx context.Context, post *geopulse.Post) ([]geopulse.Label, error)
}

// VisionOptions configure a VisionWorker. Zero values are defaults.
type VisionOptions struct {
	Labeller MediaLabeller       // required
	Store    geopulse.LabelStore // required
	// Concurrency is how many jobs run at once; default 1. Each job uses
	// the labeller's own threads: on two cores, one job with two
	// intra-op threads or two jobs with one thread each.
	Concurrency int
	// Busy, when set, says the pipeline has more than it can do (e.g.
	// Stream.PipelineBusy): a job then waits, holding its message, until
	// it is not, so that labelling never takes CPU from a lagging pipeline.
	Busy func() bool
	// Start, when set, runs first on each labelling goroutine (e.g.
	// vision.Background, which lowers its thread's priority).
	Start func()
	// MaxDeliver is how many deliveries a failing job gets; default 5.
	MaxDeliver int
	// Backoff is the redelivery delay after the first failure, doubling up
	// to MaxBackoff; defaults 5 s and 5 min.
	Backoff, MaxBackoff time.Duration
	Now                 func() time.Time      // default time.Now
	Logger              *slog.Logger          // nil: discard
	Registerer          prometheus.Registerer // nil: metrics kept but not exported
}

// VisionWorker takes jobs from VISION, labels the media and replaces the
// post's image labels in the store.
type VisionWorker struct {
	stream *Stream
	opts   VisionOptions
	logger *slog.Logger
	m      *visionMetrics
}

// NewVisionWorker returns a VisionWorker on s.
func NewVisionWorker(s *Stream, opts VisionOptions) *VisionWorker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.MaxDeliver <= 0 {
		opts.MaxDeliver = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = 5 * time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 5 * time.Minute
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &VisionWorker{stream: s, opts: opts, logger: logger, m: newVisionMetrics(opts.Registerer)}
}

// Run labels jobs until ctx ends, finishing the jobs in hand.
func (w *VisionWorker) Run(ctx context.Context) error {
	if w.opts.Labeller == nil || w.opts.Store == nil {
		return errors.New("vision worker: Labeller and Store are required")
	}
	// One job at a time per loop: a job takes tens of milliseconds, so
	// batching saves nothing and would hold jobs other loops could run.
	return w.stream.consume(ctx, StreamVision, ConsumerVision, w.opts.Concurrency, 1, time.Second, w.opts.Start,
		func(ctx context.Context, msgs []jetstream.Msg) {
			for _, msg := range msgs {
				w.handle(ctx, msg)
			}
		}, func(err error) { w.logger.Debug("vision fetch", slog.Any(keyError, err)) })
}

func (w *VisionWorker) handle(ctx context.Context, msg jetstream.Msg) {
	meta, err := msg.Metadata()
	if err != nil {
		w.logger.Error("vision message without metadata", slog.Any(keyError, err))
		return
	}
	if w.opts.Busy != nil && w.opts.Busy() {
		w.m.yields.Inc()
		for w.opts.Busy() {
			// Still ours: keep the server from redelivering it meanwhile.
			if err := msg.InProgress(); err != nil {
				return // redelivered later
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}
	it := item{msg: msg, meta: meta}
	post, _, err := canonical.DecodeMessage(msg.Data(), decodeLimits)
	if err != nil || post == nil {
		w.finish(it, "undecodable")
		return
	}
	now := w.opts.Now()
	if post.ExpiresAt != nil && !post.ExpiresAt.After(now) {
		// A story past its expiry: its media is gone and must stay unseen.
		w.finish(it, "expired")
		return
	}
	start := time.Now()
	labels, err := w.label(ctx, post)
	w.m.seconds.Observe(time.Since(start).Seconds())
	w.m.lag.Observe(now.Sub(meta.Timestamp).Seconds())
	switch code := geopulse.ErrorCode(err); {
	case err == nil:
	case code != geopulse.EINTERNAL:
		w.logger.Debug("vision refused media", slog.Int64("post", post.ID), slog.Any(keyError, err))
		w.finish(it, "refused")
		return
	default:
		w.retry(ctx, it, err)
		return
	}
	err = w.opts.Store.ReplaceLabels(ctx, post.ID, geopulse.OriginImage, labels, w.opts.Now())
	switch {
	case geopulse.ErrorCode(err) == geopulse.ENOTFOUND:
		// Deleted, erased or expired meanwhile: nothing to label.
		w.finish(it, "gone")
	case err != nil:
		w.retry(ctx, it, err)
	default:
		w.m.labels.Add(float64(len(labels)))
		w.finish(it, "labelled")
	}
}

// label runs the labeller, turning a panic that escaped it into a failed
// job instead of a dead worker.
func (w *VisionWorker) label(ctx context.Context, post *geopulse.Post) (labels []geopulse.Label, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("labeller panicked: %v", r)
		}
	}()
	return w.opts.Labeller.LabelMedia(ctx, post)
}

func (w *VisionWorker) finish(it item, result string) {
	if err := it.msg.Ack(); err != nil {
		w.logger.Warn("vision ack", slog.Uint64(keySeq, it.meta.Sequence.Stream), slog.Any(keyError, err))
	}
	w.m.jobs.WithLabelValues(result).Inc()
}

func (w *VisionWorker) retry(ctx context.Context, it item, cause error) {
	switch w.stream.retry(ctx, it, ReasonVisionFailed, cause, w.opts.MaxDeliver, w.opts.Backoff, w.opts.MaxBackoff) {
	case retried:
		w.logger.Warn("vision job failed; will retry", slog.Uint64(keySeq, it.meta.Sequence.Stream), slog.Any(keyError, cause))
		w.m.jobs.WithLabelValues("retried").Inc()
	case deadLettered:
		w.m.jobs.WithLabelValues("dead").Inc()
	}
}

type visionMetrics struct {
	yields  prometheus.Counter
	jobs    *prometheus.CounterVec
	labels  prometheus.Counter
	seconds prometheus.Histogram
	lag     prometheus.Histogram
}

func newVisionMetrics(reg prometheus.Registerer) *visionMetrics {
	m := &visionMetrics{
		yields: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_vision_yields_total",
			Help: "Times a vision job waited for a lagging pipeline before it ran.",
		}),
		jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "geopulse_vision_jobs_total",
			Help: "Vision jobs by result: labelled, refused (media refused or undecodable; final), gone (post no longer stored), expired (story past expiry), retried, dead (dead-lettered), undecodable.",
		}, []string{"result"}),
		labels: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "geopulse_vision_labels_total",
			Help: "Image labels stored.",
		}),
		seconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "geopulse_vision_job_seconds",
			Help:    "Time to label one post: fetch, decode, detect, OCR.",
			Buckets: prometheus.ExponentialBuckets(0.005, 2, 12),
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "geopulse_vision_lag_seconds",
			Help:    "Time from a job entering VISION to a vision worker starting it.",
			Buckets: prometheus.ExponentialBuckets(0.01, 3, 12),
		}),
	}
	if reg != nil {
		m.yields = register(reg, m.yields)
		m.jobs = register(reg, m.jobs)
		m.labels = register(reg, m.labels)
		m.seconds = register(reg, m.seconds)
		m.lag = register(reg, m.lag)
	}
	return m
}
