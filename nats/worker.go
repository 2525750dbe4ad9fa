package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// WorkerOptions configure a Worker. Zero values are defaults.
type WorkerOptions struct {
	// Ingester is the pipeline the posts go through (required).
	Ingester geopulse.Ingester
	// Complier applies compliance events (the pipeline); nil dead-letters
	// them.
	Complier geopulse.Complier
	// Concurrency is the number of fetch-process-ack loops; default 1.
	Concurrency int
	// Batch is the most messages fetched and stored at once; default
	// 10,000. The store's cost is mostly per transaction, so large batches
	// matter: measured end to end (BenchmarkEndToEnd), 1,000 gave 8–10k
	// posts/s, 5,000 13–14k and 10,000 14–15k on the same busy 2-core box.
	// The consumer's MaxAckPending must cover Concurrency × Batch.
	Batch int
	// MaxWait is how long a fetch waits to fill a batch; default 100 ms.
	MaxWait time.Duration
	// MaxDeliver is how many deliveries a message whose store write fails
	// gets before it is dead-lettered; default 5.
	MaxDeliver int
	// Backoff is the redelivery delay after the first failure, doubling
	// with each delivery up to MaxBackoff; defaults 1 s and 30 s.
	Backoff, MaxBackoff time.Duration
	// Vision queues every stored post with media inside a place for the
	// vision workers (VISION). Off when no vision worker runs anywhere.
	Vision     bool
	Logger     *slog.Logger          // nil: discard
	Registerer prometheus.Registerer // nil: metrics kept but not exported
}

// Worker takes posts from the workers' durable consumer, runs them through
// the pipeline and acknowledges each only after the store has committed
// it. Any number of workers, in any number of processes, share the
// consumer: each message goes to one of them at a time.
type Worker struct {
	stream *Stream
	opts   WorkerOptions
	logger *slog.Logger
	m      *workerMetrics
}

// decodeLimits are generous: the post was decoded and gated at intake (or
// comes from a trusted door), so here the limits only bound memory.
var decodeLimits = canonical.Limits{MaxItemBytes: MaxMessageBytes, MaxCaption: 1 << 20, MaxListLen: 10_000}

// NewWorker returns a Worker on s.
func NewWorker(s *Stream, opts WorkerOptions) *Worker {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 1
	}
	if opts.Batch <= 0 {
		opts.Batch = 10_000
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = 100 * time.Millisecond
	}
	if opts.MaxDeliver <= 0 {
		opts.MaxDeliver = 5
	}
	if opts.Backoff <= 0 {
		opts.Backoff = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 30 * time.Second
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{stream: s, opts: opts, logger: logger, m: newWorkerMetrics(opts.Registerer)}
}

// Run processes messages until ctx ends, then finishes and acknowledges the
// batches in hand and returns nil. It returns an error only if the consumer
// cannot be found at start.
func (w *Worker) Run(ctx context.Context) error {
	return w.stream.consume(ctx, StreamPosts, ConsumerWorkers, w.opts.Concurrency, w.opts.Batch, w.opts.MaxWait, nil,
		w.handle, func(err error) {
			w.m.fetchErrors.Inc()
			w.logger.Debug("worker fetch", slog.Any(keyError, err))
		})
}

// item is one message of a batch with its decoded post or event.
type item struct {
	msg   jetstream.Msg
	meta  *jetstream.MsgMetadata
	post  *geopulse.Post
	event *geopulse.ComplianceEvent
}

// handle decodes a fetched batch, dead-letters what cannot be decoded and
// stores the rest.
func (w *Worker) handle(ctx context.Context, msgs []jetstream.Msg) {
	start := time.Now()
	items := make([]item, 0, len(msgs))
	var events []item
	for _, msg := range msgs {
		meta, err := msg.Metadata()
		if err != nil {
			// Not a JetStream message: nothing to ack or dead-letter.
			w.logger.Error("worker message without metadata", slog.Any(keyError, err))
			continue
		}
		if meta.NumDelivered > 1 {
			w.m.redeliveries.Inc()
		}
		post, ev, err := decode(msg, meta)
		if err != nil {
			w.deadLetter(ctx, item{msg: msg, meta: meta}, ReasonUndecodable, err)
			continue
		}
		if ev != nil {
			events = append(events, item{msg: msg, meta: meta, event: ev})
			continue
		}
		items = append(items, item{msg: msg, meta: meta, post: post})
	}
	// Posts first: an event then also removes a post it follows in the
	// stream, and a post that follows its event is refused by the gate.
	w.store(ctx, items, false)
	w.comply(ctx, events)
	w.m.batch.Observe(time.Since(start).Seconds())
}

// decode reads a message's post. A post without observed_at gets the time
// the stream stored it: that is when geopulse received it, and a replay
// then reproduces the same value.
func decode(msg jetstream.Msg, meta *jetstream.MsgMetadata) (*geopulse.Post, *geopulse.ComplianceEvent, error) {
	post, ev, err := canonical.DecodeMessage(msg.Data(), decodeLimits)
	if err != nil || ev != nil {
		return nil, ev, err
	}
	if post.ObservedAt.IsZero() {
		post.ObservedAt = meta.Timestamp.UTC()
	}
	return post, nil, nil
}

// comply applies compliance events and settles their messages: applied or
// refused as invalid (final) → ack; the store failed → retry later.
func (w *Worker) comply(ctx context.Context, items []item) {
	if len(items) == 0 {
		return
	}
	if w.opts.Complier == nil {
		for _, it := range items {
			w.deadLetter(ctx, it, ReasonUndecodable, errors.New("this worker takes no compliance events"))
		}
		return
	}
	events := make([]*geopulse.ComplianceEvent, len(items))
	for i, it := range items {
		events[i] = it.event
	}
	errs, err := w.opts.Complier.Comply(ctx, events)
	if err == nil && len(errs) != len(events) {
		err = fmt.Errorf("complier returned %d results for %d events", len(errs), len(events))
	}
	if err != nil {
		w.logger.Warn("worker compliance events failed; will retry", slog.Int(keyPosts, len(items)), slog.Any(keyError, err))
		for _, it := range items {
			w.retry(ctx, it, err)
		}
		return
	}
	for _, it := range items {
		w.ack(it)
	}
	w.m.messages.WithLabelValues("compliance").Add(float64(len(items)))
}

// store runs items through the pipeline and settles each message. When the
// batch as a whole fails and some message in it has failed before, the
// batch is split in halves, so that one poison message is isolated in a
// few steps while the good ones land; a first failure of a batch is more
// likely an outage, and the batch is simply retried later.
func (w *Worker) store(ctx context.Context, items []item, redecode bool) {
	if len(items) == 0 {
		return
	}
	if redecode {
		// The pipeline enriched the posts in place; start again from the bytes.
		fresh := items[:0:0]
		for _, it := range items {
			post, _, err := decode(it.msg, it.meta)
			if err != nil {
				w.deadLetter(ctx, it, ReasonUndecodable, err)
				continue
			}
			it.post = post
			fresh = append(fresh, it)
		}
		items = fresh
		if len(items) == 0 {
			return
		}
	}
	posts := make([]*geopulse.Post, len(items))
	for i, it := range items {
		posts[i] = it.post
	}
	errs, err := w.opts.Ingester.Ingest(ctx, posts)
	if err == nil && len(errs) != len(posts) {
		err = fmt.Errorf("ingester returned %d results for %d posts", len(errs), len(posts))
	}
	if err != nil {
		seen := false
		for _, it := range items {
			seen = seen || it.meta.NumDelivered > 1
		}
		switch {
		case len(items) == 1 || !seen:
			w.logger.Warn("worker store failed; will retry", slog.Int(keyPosts, len(items)), slog.Any(keyError, err))
			for _, it := range items {
				w.retry(ctx, it, err)
			}
		default:
			half := len(items) / 2
			w.store(ctx, items[:half], true)
			w.store(ctx, items[half:], true)
		}
		return
	}
	var stored, rejected int
	if w.opts.Vision {
		// Before the acks: a crash in between redelivers the posts, which
		// queues their jobs again (deduplicated by the stream).
		jobs := make([]visionJob, 0, len(items))
		for i, it := range items {
			if errs[i] == nil {
				jobs = append(jobs, visionJob{post: it.post, msg: it.msg})
			}
		}
		_, lost := w.stream.publishVision(ctx, jobs)
		w.m.visionLost.Add(float64(lost))
	}
	for i, it := range items {
		switch e := errs[i]; {
		case e == nil:
			stored++
		case geopulse.ErrorCode(e) == geopulse.EINTERNAL:
			// Not a verdict on the post: a failure to store this one item.
			w.logger.Warn("worker store failed for a post; will retry", slog.Uint64(keySeq, it.meta.Sequence.Stream), slog.Any(keyError, e))
			w.retry(ctx, it, e)
			continue
		default:
			// The gate or the store said no: final, like at intake.
			rejected++
		}
		w.ack(it)
	}
	w.m.messages.WithLabelValues("stored").Add(float64(stored))
	w.m.messages.WithLabelValues("rejected").Add(float64(rejected))
}

func (w *Worker) ack(it item) {
	if err := it.msg.Ack(); err != nil {
		// The store has the post; the message comes back after AckWait and
		// is stored again, idempotently.
		w.logger.Warn("worker ack", slog.Uint64(keySeq, it.meta.Sequence.Stream), slog.Any(keyError, err))
	}
}

// retry hands a failed message back for a later delivery with backoff, or
// dead-letters it once it has had MaxDeliver deliveries.
func (w *Worker) retry(ctx context.Context, it item, cause error) {
	switch w.stream.retry(ctx, it, ReasonStoreFailed, cause, w.opts.MaxDeliver, w.opts.Backoff, w.opts.MaxBackoff) {
	case retried:
		w.m.messages.WithLabelValues("retried").Inc()
	case deadLettered:
		w.m.messages.WithLabelValues("dead").Inc()
		w.m.deadLetters.WithLabelValues(ReasonStoreFailed).Inc()
	}
}

// Outcomes of Stream.retry.
const (
	retried = iota
	deadLettered
	neither // the dead letter could not be written: nak'd, tried again later
)

// retry hands a failed message back for a later delivery, its delay
// doubling from backoff up to maxBackoff with each delivery, or
// dead-letters it (with reason) once it has had maxDeliver deliveries.
func (s *Stream) retry(ctx context.Context, it item, reason string, cause error, maxDeliver int, backoff, maxBackoff time.Duration) int {
	n := it.meta.NumDelivered
	if n >= uint64(maxDeliver) {
		if s.deadLetter(ctx, it, reason, cause, backoff) {
			return deadLettered
		}
		return neither
	}
	if err := it.msg.NakWithDelay(min(backoff<<min(n-1, 16), maxBackoff)); err != nil {
		s.logger.Warn("nak", slog.Uint64(keySeq, it.meta.Sequence.Stream), slog.Any(keyError, err))
	}
	return retried
}

// deadLetter copies a message to DEADLETTERS with its error, then
// terminates it where it was.
func (w *Worker) deadLetter(ctx context.Context, it item, reason string, cause error) {
	if w.stream.deadLetter(ctx, it, reason, cause, w.opts.Backoff) {
		w.m.messages.WithLabelValues("dead").Inc()
		w.m.deadLetters.WithLabelValues(reason).Inc()
	}
}

// deadLetter copies a message to DEADLETTERS with its error, then
// terminates it in its stream, and reports whether it did. If the copy
// fails the message is nak'd (with backoff) and tried again later: it is
// never dropped. The dead letter's Nats-Msg-Id is the original stream and
// sequence, so a worker dying between the two steps cannot make two dead
// letters of one message.
func (s *Stream) deadLetter(ctx context.Context, it item, reason string, cause error, backoff time.Duration) bool {
	seq := strconv.FormatUint(it.meta.Sequence.Stream, 10)
	id := "dead-" + seq
	if it.meta.Stream != StreamPosts {
		id = "dead-" + it.meta.Stream + "-" + seq
	}
	msg := &natsgo.Msg{Subject: subjectDead + reason, Data: it.msg.Data(), Header: natsgo.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, id)
	msg.Header.Set(HeaderReason, reason)
	msg.Header.Set(HeaderError, errorText(cause))
	msg.Header.Set(HeaderSubject, it.msg.Subject())
	msg.Header.Set(HeaderSequence, seq)
	msg.Header.Set(HeaderDeliveries, strconv.FormatUint(it.meta.NumDelivered, 10))
	msg.Header.Set(HeaderReceived, it.meta.Timestamp.UTC().Format(time.RFC3339Nano))
	pctx, cancel := context.WithTimeout(ctx, s.cfg.PublishTimeout)
	defer cancel()
	if _, err := s.js.PublishMsg(pctx, msg); err != nil {
		s.logger.Error("dead letter", slog.Uint64(keySeq, it.meta.Sequence.Stream), slog.Any(keyError, err))
		if err := it.msg.NakWithDelay(backoff); err != nil {
			s.logger.Warn("nak", slog.Uint64(keySeq, it.meta.Sequence.Stream), slog.Any(keyError, err))
		}
		return false
	}
	if err := it.msg.TermWithReason(reason); err != nil {
		s.logger.Warn("term", slog.Uint64(keySeq, it.meta.Sequence.Stream), slog.Any(keyError, err))
	}
	s.logger.Warn("dead-lettered a message", slog.String("stream", it.meta.Stream), slog.Uint64(keySeq, it.meta.Sequence.Stream),
		slog.String(keyReason, reason), slog.Uint64(keyDeliveries, it.meta.NumDelivered), slog.Any(keyError, cause))
	return true
}

// errorText is the error as the dead letter keeps it: the user-facing
// message of a domain error plus its chain, bounded in size (a header).
func errorText(err error) string {
	s := err.Error()
	if len(s) > 1024 {
		s = s[:1024]
	}
	// Header values cannot hold line breaks.
	b := []byte(s)
	for i, c := range b {
		if c == '\r' || c == '\n' {
			b[i] = ' '
		}
	}
	return string(b)
}
