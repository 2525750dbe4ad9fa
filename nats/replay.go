package nats

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/geopulse/geopulse"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// ReplayOptions say what to replay and where to.
type ReplayOptions struct {
	// Since is the earliest stream time replayed (required).
	Since time.Time
	// Until, when set, is the stream time replay stops before.
	Until time.Time
	// Ingester is the pipeline the posts go through again (required).
	Ingester geopulse.Ingester
	// Batch is how many posts go to the pipeline at once; default 1,000.
	Batch int
	// Progress, when set, is called after every batch.
	Progress func(ReplayProgress)
	// Vision queues the stored posts with media in a place for the vision
	// workers again: a replay after a better model relabels the pictures.
	Vision bool
}

// ReplayProgress counts what a replay has done so far.
type ReplayProgress struct {
	Messages    int // read from POSTS
	Stored      int // accepted by the pipeline
	Rejected    int // refused by the gate or the store (final)
	Undecodable int // skipped: their dead letters are in DEADLETTERS
	// With Vision: jobs queued for the vision workers, and jobs the
	// stream did not take.
	VisionQueued, VisionLost int
	Seq                      uint64    // last stream sequence read
	LastSeq                  uint64    // the stream's last sequence when replay began
	At                       time.Time // stream time of the last message read
}

// Replay reads POSTS from opts.Since, through an ordered ephemeral
// consumer that leaves the workers' consumer alone, and runs every post
// through opts.Ingester again. Writes are idempotent, so replaying posts
// that are stored already only refreshes them (and matches them against
// places created since). It stops at the last message present when it
// began, or at opts.Until.
func (s *Stream) Replay(ctx context.Context, opts ReplayOptions) (ReplayProgress, error) {
	var pr ReplayProgress
	if opts.Ingester == nil || opts.Since.IsZero() {
		return pr, errors.New("replay: Since and Ingester are required")
	}
	if opts.Batch <= 0 {
		opts.Batch = 1000
	}
	posts, err := s.js.Stream(ctx, StreamPosts)
	if err != nil {
		return pr, fmt.Errorf("stream %s: %w", StreamPosts, err)
	}
	state := posts.CachedInfo().State
	pr.LastSeq = state.LastSeq
	if state.Msgs == 0 || state.LastTime.Before(opts.Since) {
		return pr, nil
	}
	since := opts.Since
	cons, err := posts.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{subjectPosts + ">"},
		DeliverPolicy:  jetstream.DeliverByStartTimePolicy,
		OptStartTime:   &since,
	})
	if err != nil {
		return pr, fmt.Errorf("replay consumer: %w", err)
	}
	batch := make([]*geopulse.Post, 0, opts.Batch)
	var held []jetstream.Msg // batch's messages, for vision jobs
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		errs, err := opts.Ingester.Ingest(ctx, batch)
		if err != nil {
			return fmt.Errorf("replay: ingest: %w", err)
		}
		var jobs []visionJob
		for i, err := range errs {
			if err == nil {
				pr.Stored++
				if opts.Vision {
					jobs = append(jobs, visionJob{post: batch[i], msg: held[i]})
				}
			} else {
				pr.Rejected++
			}
		}
		if len(jobs) > 0 {
			queued, lost := s.publishVision(ctx, jobs)
			pr.VisionQueued, pr.VisionLost = pr.VisionQueued+queued, pr.VisionLost+lost
		}
		batch, held = batch[:0:0], held[:0] // the pipeline may keep the posts
		if opts.Progress != nil {
			opts.Progress(pr)
		}
		return nil
	}
	for pr.Seq < pr.LastSeq {
		if err := ctx.Err(); err != nil {
			return pr, err
		}
		msgs, err := cons.Fetch(opts.Batch, jetstream.FetchMaxWait(time.Second))
		if err != nil {
			return pr, fmt.Errorf("replay fetch: %w", err)
		}
		got := 0
		done := false
		for msg := range msgs.Messages() {
			got++
			meta, err := msg.Metadata()
			if err != nil {
				continue
			}
			if meta.Sequence.Stream > pr.LastSeq || (!opts.Until.IsZero() && !meta.Timestamp.Before(opts.Until)) {
				done = true
				continue // drain the fetch; nothing to ack on an ordered consumer
			}
			pr.Messages++
			pr.Seq, pr.At = meta.Sequence.Stream, meta.Timestamp.UTC()
			post, ev, err := decode(msg, meta)
			if err != nil {
				pr.Undecodable++
				continue
			}
			if ev != nil {
				// Applied when first received; its effects (tombstones,
				// suppressions) are in the store and refuse the posts it
				// concerns at the gate.
				continue
			}
			batch, held = append(batch, post), append(held, msg)
		}
		if err := msgs.Error(); err != nil && !errors.Is(err, natsgo.ErrTimeout) && !errors.Is(err, jetstream.ErrNoMessages) {
			return pr, fmt.Errorf("replay fetch: %w", err)
		}
		if err := flush(); err != nil {
			return pr, err
		}
		if done {
			break
		}
		if got == 0 {
			// Nothing more to read though the last sequence was not reached:
			// the tail aged out or was deleted meanwhile.
			info, err := cons.Info(ctx)
			if err == nil && info.NumPending == 0 {
				break
			}
		}
	}
	return pr, nil
}
