package nats

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Names of the streams, subjects and the workers' consumer. They are part of
// the deployment contract: every geopulse process of a cluster uses them.
const (
	// StreamPosts holds every accepted post as its canonical JSON.
	StreamPosts = "POSTS"
	// StreamDeadLetters holds messages the workers gave up on.
	StreamDeadLetters = "DEADLETTERS"
	// ConsumerWorkers is the durable pull consumer all workers share.
	ConsumerWorkers = "workers"

	subjectPosts = "geopulse.posts."
	subjectDead  = "geopulse.dead."
)

// MaxMessageBytes is the largest message the embedded server accepts and
// the largest post body the publisher sends (NATS's default max payload).
const MaxMessageBytes = 1 << 20

// Headers of dead letters.
const (
	HeaderError      = "Geopulse-Error"      // the error text
	HeaderReason     = "Geopulse-Reason"     // undecodable | store_failed
	HeaderSubject    = "Geopulse-Subject"    // the original subject in POSTS
	HeaderSequence   = "Geopulse-Sequence"   // the original stream sequence in POSTS
	HeaderDeliveries = "Geopulse-Deliveries" // deliveries before giving up
	HeaderReceived   = "Geopulse-Received"   // when POSTS stored the original (RFC 3339)
)

// Dead-letter reasons.
const (
	ReasonUndecodable = "undecodable"
	ReasonStoreFailed = "store_failed"
)

// Config is the shape of the streams and the workers' consumer. The zero
// value takes every default.
type Config struct {
	// Replicas of each stream: 1 on a single node, 3 in a cluster.
	Replicas int
	// MaxAge is the replay window: posts older than this leave POSTS.
	// Default 7 days.
	MaxAge time.Duration
	// MaxBytes bounds POSTS; default 10 GiB.
	MaxBytes int64
	// DiscardOld makes a full POSTS drop its oldest messages instead of
	// refusing new ones. The default (false) refuses, so intake answers 429
	// and no acknowledged post is ever dropped before a worker stored it.
	DiscardOld bool
	// Duplicates is the window in which a message with the same Nats-Msg-Id
	// is stored once; default 2 min.
	Duplicates time.Duration
	// DeadMaxAge is how long dead letters are kept; default 30 days.
	DeadMaxAge time.Duration
	// AckWait is how long a worker may hold a message before it is
	// redelivered to another; default 30 s.
	AckWait time.Duration
	// MaxAckPending bounds the messages handed to workers and not yet acked
	// (all worker loops of all processes together); default 50,000, room
	// for five loops fetching full batches.
	MaxAckPending int
	// PublishTimeout bounds the wait for one PubAck; default 10 s.
	PublishTimeout time.Duration
}

// DefaultConfig is the configuration used for every zero field of a
// Config. It is never modified by this package.
var DefaultConfig = Config{
	Replicas:       1,
	MaxAge:         7 * 24 * time.Hour,
	MaxBytes:       10 << 30,
	Duplicates:     2 * time.Minute,
	DeadMaxAge:     30 * 24 * time.Hour,
	AckWait:        30 * time.Second,
	MaxAckPending:  50_000,
	PublishTimeout: 10 * time.Second,
}

func (c Config) orDefault() Config {
	d := DefaultConfig
	if c.Replicas <= 0 {
		c.Replicas = d.Replicas
	}
	if c.MaxAge <= 0 {
		c.MaxAge = d.MaxAge
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = d.MaxBytes
	}
	if c.Duplicates <= 0 {
		c.Duplicates = d.Duplicates
	}
	c.Duplicates = min(c.Duplicates, c.MaxAge)
	if c.DeadMaxAge <= 0 {
		c.DeadMaxAge = d.DeadMaxAge
	}
	if c.AckWait <= 0 {
		c.AckWait = d.AckWait
	}
	if c.MaxAckPending <= 0 {
		c.MaxAckPending = d.MaxAckPending
	}
	if c.PublishTimeout <= 0 {
		c.PublishTimeout = d.PublishTimeout
	}
	return c
}

// Stream is a connection to the geopulse streams. It owns the NATS
// connection it was opened with. It is safe for concurrent use; Publisher,
// Worker, dead letters and replay all work through one.
type Stream struct {
	nc     *natsgo.Conn
	js     jetstream.JetStream
	cfg    Config
	logger *slog.Logger
}

// Open creates or updates POSTS, DEADLETTERS and the workers' consumer on
// nc and returns the Stream, which owns nc from then on (Close drains it).
// Every role calls it, so whichever process starts first sets things up.
func Open(ctx context.Context, nc *natsgo.Conn, cfg Config, logger *slog.Logger) (*Stream, error) {
	cfg = cfg.orDefault()
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	js, err := jetstream.New(nc,
		jetstream.WithPublishAsyncTimeout(cfg.PublishTimeout),
		jetstream.WithPublishAsyncMaxPending(8192),
		jetstream.WithDefaultTimeout(10*time.Second),
	)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	s := &Stream{nc: nc, js: js, cfg: cfg, logger: logger}
	if err := s.setup(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Stream) setup(ctx context.Context) error {
	discard := jetstream.DiscardNew
	if s.cfg.DiscardOld {
		discard = jetstream.DiscardOld
	}
	posts := jetstream.StreamConfig{
		Name:        StreamPosts,
		Description: "Accepted posts (canonical JSON), kept for the replay window.",
		Subjects:    []string{subjectPosts + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      s.cfg.MaxAge,
		MaxBytes:    s.cfg.MaxBytes,
		Discard:     discard,
		Duplicates:  s.cfg.Duplicates,
		Replicas:    s.cfg.Replicas,
		MaxMsgSize:  MaxMessageBytes,
		AllowDirect: true,
	}
	dead := jetstream.StreamConfig{
		Name:        StreamDeadLetters,
		Description: "Posts the workers could not decode or store, with the error.",
		Subjects:    []string{subjectDead + ">"},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		MaxAge:      s.cfg.DeadMaxAge,
		Duplicates:  s.cfg.Duplicates,
		Replicas:    s.cfg.Replicas,
		AllowDirect: true,
	}
	for _, sc := range []jetstream.StreamConfig{posts, dead} {
		if err := retryUnavailable(ctx, func(ctx context.Context) error {
			_, err := s.js.CreateOrUpdateStream(ctx, sc)
			return err
		}); err != nil {
			return fmt.Errorf("set up stream %s: %w", sc.Name, err)
		}
	}
	// MaxDeliver is unlimited on the server: the worker counts deliveries and
	// dead-letters a message itself. A server-side limit would leave a
	// message stranded (neither stored nor dead-lettered) when a worker dies
	// during its last delivery.
	cc := jetstream.ConsumerConfig{
		Durable:       ConsumerWorkers,
		Description:   "geopulse workers: pipeline → store, shared by all worker processes.",
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckExplicitPolicy,
		AckWait:       s.cfg.AckWait,
		MaxDeliver:    -1,
		MaxAckPending: s.cfg.MaxAckPending,
		FilterSubject: subjectPosts + ">",
		MaxWaiting:    512,
	}
	if err := retryUnavailable(ctx, func(ctx context.Context) error {
		_, err := s.js.CreateOrUpdateConsumer(ctx, StreamPosts, cc)
		return err
	}); err != nil {
		return fmt.Errorf("set up consumer %s: %w", ConsumerWorkers, err)
	}
	return s.setupVision(ctx)
}

// consume runs n fetch loops on a durable consumer until ctx ends, each
// first calling start (when set) on its own goroutine, and handing
// each fetched batch to handle (with a context that outlives ctx: the
// messages are ours until settled, and abandoning them would delay them by
// AckWait). Fetch errors (leader changes, reconnects) go to fetchErr and
// are retried with a growing pause. It returns an error only if the
// consumer cannot be found at start.
func (s *Stream) consume(ctx context.Context, stream, consumer string, n, batch int, maxWait time.Duration,
	start func(), handle func(context.Context, []jetstream.Msg), fetchErr func(error)) error {
	var cons jetstream.Consumer
	err := retryUnavailable(ctx, func(ctx context.Context) (err error) {
		cons, err = s.js.Consumer(ctx, stream, consumer)
		return err
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("consumer %s: %w", consumer, err)
	}
	var wg sync.WaitGroup
	for range max(n, 1) {
		wg.Go(func() {
			if start != nil {
				start()
			}
			pause := 50 * time.Millisecond
			msgs := make([]jetstream.Msg, 0, batch)
			for ctx.Err() == nil {
				fetched, err := cons.Fetch(batch, jetstream.FetchMaxWait(maxWait))
				if err == nil {
					msgs = msgs[:0]
					// Read the whole batch even if ctx ends meanwhile.
					for msg := range fetched.Messages() {
						msgs = append(msgs, msg)
					}
					err = fetched.Error()
					if len(msgs) > 0 {
						handle(context.WithoutCancel(ctx), msgs)
					}
				}
				if err != nil && !errors.Is(err, natsgo.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
					fetchErr(err)
					select {
					case <-ctx.Done():
					case <-time.After(pause):
					}
					pause = min(2*pause, 2*time.Second)
					continue
				}
				pause = 50 * time.Millisecond
			}
		})
	}
	wg.Wait()
	return nil
}

// retryUnavailable retries f while JetStream is not yet available (a fresh
// cluster electing its meta leader), until ctx ends or 30 s pass.
func retryUnavailable(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		callCtx, callCancel := context.WithTimeout(ctx, 5*time.Second)
		err := f(callCtx)
		callCancel()
		if err == nil || !transient(err) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}

// transient reports errors that go away by themselves: no JetStream leader
// yet, a leader election, a reconnect.
func transient(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) {
		// 503s: no leader, cluster not ready, insufficient peers.
		return apiErr.Code == 503 && !full(err)
	}
	return errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, natsgo.ErrNoResponders) ||
		errors.Is(err, natsgo.ErrTimeout) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) ||
		errors.Is(err, jetstream.ErrNoStreamResponse) ||
		errors.Is(err, jetstream.ErrAsyncPublishTimeout) ||
		errors.Is(err, jetstream.ErrTooManyStalledMsgs) ||
		errors.Is(err, natsgo.ErrDisconnected) ||
		errors.Is(err, natsgo.ErrConnectionReconnecting) ||
		errors.Is(err, natsgo.ErrConnectionClosed) ||
		errors.Is(err, natsgo.ErrConnectionDraining) ||
		errors.Is(err, natsgo.ErrNoServers) ||
		strings.Contains(err.Error(), "no responders")
}

// Config returns the effective configuration (defaults applied).
func (s *Stream) Config() Config { return s.cfg }

// Ready reports whether POSTS answers: nil when intake and workers can work.
func (s *Stream) Ready(ctx context.Context) error {
	if !s.nc.IsConnected() {
		return fmt.Errorf("nats: %s", s.nc.Status())
	}
	if _, err := s.js.Stream(ctx, StreamPosts); err != nil {
		return fmt.Errorf("stream %s: %w", StreamPosts, err)
	}
	return nil
}

// Lag is how many posts the workers have yet to finish: not yet delivered
// plus delivered and not yet acknowledged.
func (s *Stream) Lag(ctx context.Context) (int64, error) {
	ci, err := s.js.Consumer(ctx, StreamPosts, ConsumerWorkers)
	if err != nil {
		return 0, fmt.Errorf("consumer %s: %w", ConsumerWorkers, err)
	}
	info := ci.CachedInfo()
	return int64(info.NumPending) + int64(info.NumAckPending), nil
}

// Stats is a snapshot of the streams for metrics and the CLI.
type Stats struct {
	Messages, Bytes     uint64 // in POSTS
	MaxBytes            int64
	Pending, AckPending int64 // of the workers' consumer
	Redelivered         int64 // messages delivered more than once and not yet acked
	DeadLetters         uint64
	VisionLag           int64     // jobs in VISION not yet finished
	FirstTime, LastTime time.Time // of POSTS: the replay window actually held
	Leader              string    // of POSTS, in a cluster
	Replicas            int
}

// Stats fetches a snapshot.
func (s *Stream) Stats(ctx context.Context) (Stats, error) {
	var st Stats
	posts, err := s.js.Stream(ctx, StreamPosts)
	if err != nil {
		return st, fmt.Errorf("stream %s: %w", StreamPosts, err)
	}
	pi := posts.CachedInfo()
	st.Messages, st.Bytes, st.MaxBytes = pi.State.Msgs, pi.State.Bytes, pi.Config.MaxBytes
	st.FirstTime, st.LastTime = pi.State.FirstTime, pi.State.LastTime
	st.Replicas = pi.Config.Replicas
	if pi.Cluster != nil {
		st.Leader = pi.Cluster.Leader
	}
	c, err := s.js.Consumer(ctx, StreamPosts, ConsumerWorkers)
	if err != nil {
		return st, fmt.Errorf("consumer %s: %w", ConsumerWorkers, err)
	}
	ci := c.CachedInfo()
	st.Pending, st.AckPending, st.Redelivered = int64(ci.NumPending), int64(ci.NumAckPending), int64(ci.NumRedelivered)
	dead, err := s.js.Stream(ctx, StreamDeadLetters)
	if err != nil {
		return st, fmt.Errorf("stream %s: %w", StreamDeadLetters, err)
	}
	st.DeadLetters = dead.CachedInfo().State.Msgs
	vc, err := s.js.Consumer(ctx, StreamVision, ConsumerVision)
	if err != nil {
		return st, fmt.Errorf("consumer %s: %w", ConsumerVision, err)
	}
	vi := vc.CachedInfo()
	st.VisionLag = int64(vi.NumPending) + int64(vi.NumAckPending)
	return st, nil
}

// WaitDrained returns once the workers have finished every post published
// so far, polling every 20 ms, or ctx's error. The consumer's counters
// alone are not enough: just after a PubAck the consumer may not yet count
// the new message (seen: Lag 0 with the post not yet stored). So drained
// means no message pending or unacknowledged and the consumer having
// delivered up to the stream's last sequence, read before; or, when that
// sequence was deleted before delivery (a purge), the counters at zero for
// half a second.
func (s *Stream) WaitDrained(ctx context.Context) error {
	var quietSince time.Time
	for {
		done, lag, err := s.drained(ctx)
		switch {
		case err != nil || lag > 0:
			quietSince = time.Time{}
		case done:
			return nil
		case quietSince.IsZero():
			quietSince = time.Now()
		case time.Since(quietSince) >= 500*time.Millisecond:
			return nil
		}
		select {
		case <-ctx.Done():
			if err == nil {
				err = fmt.Errorf("%d posts still pending", lag)
			}
			return fmt.Errorf("wait for workers: %w (%w)", ctx.Err(), err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

func (s *Stream) drained(ctx context.Context) (done bool, lag int64, err error) {
	str, err := s.js.Stream(ctx, StreamPosts)
	if err != nil {
		return false, 0, err
	}
	last := str.CachedInfo().State.LastSeq
	c, err := s.js.Consumer(ctx, StreamPosts, ConsumerWorkers)
	if err != nil {
		return false, 0, err
	}
	ci := c.CachedInfo()
	lag = int64(ci.NumPending) + int64(ci.NumAckPending)
	return lag == 0 && ci.Delivered.Stream >= last, lag, nil
}

// Close drains the connection: pending acks and publishes are flushed,
// subscriptions end, then it closes. Callers stop publishers and workers
// first.
func (s *Stream) Close() error {
	if s == nil || s.nc == nil || s.nc.IsClosed() {
		return nil
	}
	closed := make(chan struct{})
	s.nc.SetClosedHandler(func(*natsgo.Conn) { close(closed) })
	if err := s.nc.Drain(); err != nil {
		s.nc.Close()
		return fmt.Errorf("drain nats: %w", err)
	}
	select {
	case <-closed:
	case <-time.After(30 * time.Second):
		s.nc.Close()
	}
	return nil
}

// Conn is the underlying connection, for tests and tools.
func (s *Stream) Conn() *natsgo.Conn { return s.nc }

// subject is the POSTS subject of a source. Sources are free text; anything
// that is not a safe subject token character becomes '_'. The subject only
// routes and filters: the body carries the real source.
func subject(source string) string {
	b := make([]byte, 0, len(subjectPosts)+len(source))
	b = append(b, subjectPosts...)
	for i := 0; i < len(source) && i < 64; i++ {
		c := source[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b = append(b, c)
		default:
			b = append(b, '_')
		}
	}
	if len(b) == len(subjectPosts) {
		b = append(b, '_')
	}
	return string(b)
}
