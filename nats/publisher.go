package nats

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
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

// Checker is the synchronous ingest rule check (pipeline.Gate): a post it
// rejects is answered at once and never published.
type Checker interface {
	Check(post *geopulse.Post, now time.Time) error
}

// PublisherOptions configure a Publisher. Zero values are defaults.
type PublisherOptions struct {
	// Gate checks each post before it is published; nil publishes all.
	Gate Checker
	// Now is the clock the gate checks against; default time.Now.
	Now func() time.Time
	// MaxLag is how many posts the workers may be behind before intake
	// answers ETOOMANY; 0 means DefaultMaxLag, a negative value no limit.
	MaxLag int64
	// LagInterval is how stale the sampled lag may be; default 250 ms.
	LagInterval time.Duration
	Logger      *slog.Logger          // nil: discard
	Registerer  prometheus.Registerer // nil: metrics kept but not exported
}

// DefaultMaxLag is the default backlog (posts) beyond which intake refuses.
const DefaultMaxLag = 1_000_000

// Publisher is the intake side of the stream. It implements
// geopulse.Ingester: a post is answered "accepted" only once POSTS has
// stored it (its PubAck arrived), and a post that could not be published
// gets an error of its own, never silence.
type Publisher struct {
	stream *Stream
	gate   Checker
	now    func() time.Time
	maxLag int64
	lagTTL time.Duration
	logger *slog.Logger
	m      *publisherMetrics

	lagMu sync.Mutex
	lag   int64
	lagAt time.Time

	closeMu sync.RWMutex
	closed  bool
	wg      sync.WaitGroup // in-flight Ingest calls
}

var (
	_ geopulse.Ingester = (*Publisher)(nil)
	_ geopulse.Complier = (*Publisher)(nil)
)

// NewPublisher returns a Publisher on s.
func NewPublisher(s *Stream, opts PublisherOptions) *Publisher {
	p := &Publisher{stream: s, gate: opts.Gate, now: opts.Now, maxLag: opts.MaxLag, lagTTL: opts.LagInterval, logger: opts.Logger}
	if p.now == nil {
		p.now = time.Now
	}
	if p.maxLag == 0 {
		p.maxLag = DefaultMaxLag
	}
	if p.lagTTL <= 0 {
		p.lagTTL = 250 * time.Millisecond
	}
	if p.logger == nil {
		p.logger = slog.New(slog.DiscardHandler)
	}
	p.m = newPublisherMetrics(opts.Registerer)
	return p
}

// Errors of Ingest. They are *geopulse.Error values so that the HTTP layer
// maps them (ETOOMANY: 429 with Retry-After).
var (
	errLagging     = &geopulse.Error{Code: geopulse.ETOOMANY, Message: "Processing is behind intake; retry in a moment."}
	errFull        = &geopulse.Error{Code: geopulse.ETOOMANY, Message: "The intake stream is full; retry later."}
	errUnavailable = &geopulse.Error{Code: geopulse.ETOOMANY, Message: "The intake stream is briefly unavailable; retry in a moment."}
	errClosed      = &geopulse.Error{Code: geopulse.ETOOMANY, Message: "This server is shutting down; retry."}
	errTooLarge    = &geopulse.Error{Code: geopulse.EINVALID, Reason: geopulse.ReasonTooLarge, Message: "The post is larger than the stream's message limit."}
)

// Ingest gates posts, publishes the good ones and waits for every PubAck.
// The returned slice has one entry per post: nil when stored in the stream,
// the gate's rejection, or an ETOOMANY/EINTERNAL error for a post the
// stream did not take. The whole batch fails with ETOOMANY when the workers
// lag beyond the limit, or when the stream took none of the posts because
// it is full or unavailable: the sender should retry after a pause.
func (p *Publisher) Ingest(ctx context.Context, posts []*geopulse.Post) ([]error, error) {
	p.closeMu.RLock()
	if p.closed {
		p.closeMu.RUnlock()
		return nil, errClosed
	}
	p.wg.Add(1)
	p.closeMu.RUnlock()
	defer p.wg.Done()

	if lag := p.sampleLag(ctx); p.maxLag > 0 && lag > p.maxLag {
		p.m.backpressure.WithLabelValues("lag").Inc()
		return nil, errLagging
	}

	now := p.now()
	errs := make([]error, len(posts))
	msgs := make([]*natsgo.Msg, len(posts))
	for i, post := range posts {
		if p.gate != nil {
			if err := p.gate.Check(post, now); err != nil {
				errs[i] = err
				p.m.posts.WithLabelValues("rejected").Inc()
				continue
			}
		}
		// Each message owns its body: an async publish may be resent later.
		msgs[i], errs[i] = p.message(post.Source, canonical.AppendJSON(make([]byte, 0, 1024), post))
	}
	if err := p.publish(ctx, msgs, errs); err != nil {
		return nil, err
	}
	return errs, nil
}

// Comply publishes compliance events to the same stream as posts (on their
// source's subject), so that they reach the workers in order with the
// posts of their source and survive a crash as posts do. Answers as Ingest.
func (p *Publisher) Comply(ctx context.Context, events []*geopulse.ComplianceEvent) ([]error, error) {
	p.closeMu.RLock()
	if p.closed {
		p.closeMu.RUnlock()
		return nil, errClosed
	}
	p.wg.Add(1)
	p.closeMu.RUnlock()
	defer p.wg.Done()

	errs := make([]error, len(events))
	msgs := make([]*natsgo.Msg, len(events))
	for i, ev := range events {
		if err := ev.Validate(); err != nil {
			errs[i] = err
			p.m.posts.WithLabelValues("rejected").Inc()
			continue
		}
		msgs[i], errs[i] = p.message(ev.Source, canonical.AppendEventJSON(make([]byte, 0, 256), ev))
	}
	if err := p.publish(ctx, msgs, errs); err != nil {
		return nil, err
	}
	return errs, nil
}

// message wraps one canonical item for the stream; nil and an error when
// the body is over the stream's message limit.
func (p *Publisher) message(source string, body []byte) (*natsgo.Msg, error) {
	if len(body) > MaxMessageBytes-1024 { // headroom for headers
		p.m.posts.WithLabelValues("rejected").Inc()
		return nil, errTooLarge
	}
	msg := &natsgo.Msg{Subject: subject(source), Data: body, Header: natsgo.Header{}}
	msg.Header.Set(jetstream.MsgIDHeader, MsgID(body))
	return msg, nil
}

// publish sends the non-nil msgs and waits for every PubAck, setting
// errs[i] for a message the stream did not take. It fails as a whole, with
// ETOOMANY, when the stream took none of them because it is full or
// unavailable: the sender should retry after a pause.
func (p *Publisher) publish(ctx context.Context, msgs []*natsgo.Msg, errs []error) error {
	start := time.Now()
	futures := make([]jetstream.PubAckFuture, len(msgs))
	attempted := 0
	for i, msg := range msgs {
		if msg == nil {
			continue
		}
		attempted++
		f, err := p.stream.js.PublishMsgAsync(msg, jetstream.WithStallWait(p.stream.cfg.PublishTimeout))
		if err != nil {
			errs[i] = p.publishError(err)
			continue
		}
		futures[i] = f
	}

	for i, f := range futures {
		if f == nil {
			continue
		}
		select {
		case ack := <-f.Ok():
			if ack.Duplicate {
				p.m.posts.WithLabelValues("duplicate").Inc()
			}
		case err := <-f.Err():
			errs[i] = p.publishError(err)
		case <-ctx.Done():
			// The sender is gone; posts already published stay published and
			// a retry is deduplicated or idempotent.
			return fmt.Errorf("wait for stream acks: %w", ctx.Err())
		}
	}
	p.m.publish.Observe(time.Since(start).Seconds())

	var accepted, full, unavailable int
	for i, err := range errs {
		switch {
		case msgs[i] == nil:
		case err == nil:
			accepted++
		case errors.Is(err, errFull):
			full++
		case errors.Is(err, errUnavailable):
			unavailable++
		}
	}
	p.m.posts.WithLabelValues("accepted").Add(float64(accepted))
	p.m.posts.WithLabelValues("failed").Add(float64(attempted - accepted))
	if attempted > 0 && full+unavailable == attempted {
		// Nothing got in, for a reason that a pause cures: say so for the
		// whole batch, so that the sender backs off rather than resending.
		cause := errUnavailable
		if full > 0 {
			cause = errFull
		}
		p.m.backpressure.WithLabelValues(causeLabel(cause)).Inc()
		return cause
	}
	return nil
}

func causeLabel(err error) string {
	if errors.Is(err, errFull) {
		return "full"
	}
	return "unavailable"
}

// publishError turns a publish failure into the item's error: full or
// briefly unavailable streams are ETOOMANY (retry later), anything else is
// an internal error, logged here.
func (p *Publisher) publishError(err error) error {
	switch {
	case full(err):
		return fmt.Errorf("%w: %w", errFull, err)
	case transient(err):
		return fmt.Errorf("%w: %w", errUnavailable, err)
	}
	p.logger.Error("publish post", slog.Any(keyError, err))
	return fmt.Errorf("publish post: %w", err)
}

// JetStream error codes for a stream that refuses a message because a
// limit is reached (DiscardNew) or the server has no room.
const (
	errCodeStoreFailed           = 10077
	errCodeInsufficientResources = 10023
)

func full(err error) bool {
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) &&
		(apiErr.ErrorCode == errCodeStoreFailed || apiErr.ErrorCode == errCodeInsufficientResources)
}

// sampleLag returns the workers' lag, refreshed at most every lagTTL. One
// caller refreshes while the others use the previous sample; an error keeps
// the previous sample (the stream's own errors surface at publish).
func (p *Publisher) sampleLag(ctx context.Context) int64 {
	if p.maxLag < 0 {
		return 0
	}
	p.lagMu.Lock()
	if time.Since(p.lagAt) < p.lagTTL {
		lag := p.lag
		p.lagMu.Unlock()
		return lag
	}
	p.lagAt = time.Now()
	prev := p.lag
	p.lagMu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	lag, err := p.stream.Lag(ctx)
	if err != nil {
		p.logger.Debug("sample consumer lag", slog.Any(keyError, err))
		return prev
	}
	p.lagMu.Lock()
	p.lag = lag
	p.lagMu.Unlock()
	return lag
}

// Close refuses new batches and waits for the ones in flight to get their
// acks. It does not close the Stream.
func (p *Publisher) Close() error {
	p.closeMu.Lock()
	p.closed = true
	p.closeMu.Unlock()
	p.wg.Wait()
	return nil
}

// MsgID is the Nats-Msg-Id of a post body: the first 128 bits of its
// SHA-256. The same payload sent twice within the duplicate window is
// stored once; an edited post (new caption, new counts) is a new message
// and updates the stored post.
func MsgID(body []byte) string {
	sum := sha256.Sum256(body)
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}
