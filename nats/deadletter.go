package nats

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// DeadLetter is a message the workers gave up on, as DEADLETTERS keeps it.
// Data is the original body: a post of any workspace, so dead letters are
// an operator's business, never a workspace's.
type DeadLetter struct {
	Seq        uint64    // sequence in DEADLETTERS: the handle for redrive and delete
	Reason     string    // ReasonUndecodable, ReasonStoreFailed or ReasonVisionFailed
	Error      string    // the last error
	Subject    string    // the original subject in POSTS or VISION
	StreamSeq  uint64    // the original sequence in POSTS
	Deliveries uint64    // deliveries before giving up
	ReceivedAt time.Time // when POSTS stored the original
	DeadAt     time.Time // when it was dead-lettered
	Data       []byte
}

// DeadLetters returns up to limit dead letters with a sequence above
// after, oldest first. Pass the last Seq as after for the next page.
func (s *Stream) DeadLetters(ctx context.Context, after uint64, limit int) ([]*DeadLetter, error) {
	if limit <= 0 {
		limit = 100
	}
	dead, err := s.js.Stream(ctx, StreamDeadLetters)
	if err != nil {
		return nil, fmt.Errorf("stream %s: %w", StreamDeadLetters, err)
	}
	var out []*DeadLetter
	for seq := after + 1; len(out) < limit; {
		// The next message at or after seq, skipping deleted ones.
		raw, err := dead.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(subjectDead+">"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			break
		} else if err != nil {
			return nil, fmt.Errorf("read dead letter %d: %w", seq, err)
		}
		out = append(out, newDeadLetter(raw))
		seq = raw.Sequence + 1
	}
	return out, nil
}

func newDeadLetter(raw *jetstream.RawStreamMsg) *DeadLetter {
	h := raw.Header
	d := &DeadLetter{
		Seq:     raw.Sequence,
		Reason:  h.Get(HeaderReason),
		Error:   h.Get(HeaderError),
		Subject: h.Get(HeaderSubject),
		DeadAt:  raw.Time.UTC(),
		Data:    raw.Data,
	}
	d.StreamSeq, _ = strconv.ParseUint(h.Get(HeaderSequence), 10, 64)
	d.Deliveries, _ = strconv.ParseUint(h.Get(HeaderDeliveries), 10, 64)
	d.ReceivedAt, _ = time.Parse(time.RFC3339Nano, h.Get(HeaderReceived))
	return d
}

// Redrive puts dead letters back into POSTS, where the workers take them
// again (after the cause is fixed: a store back up, a new decoder), and
// removes them from DEADLETTERS. It returns how many it re-drove; an
// unknown sequence is ENOTFOUND and stops it.
//
// The republished message carries no Nats-Msg-Id: it must not be taken
// for a duplicate of the original, which may still be in the window.
// Redriving twice (say, a crash between republish and delete) stores the
// post twice in POSTS, which the idempotent store absorbs.
func (s *Stream) Redrive(ctx context.Context, seqs []uint64) (int, error) {
	dead, err := s.js.Stream(ctx, StreamDeadLetters)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", StreamDeadLetters, err)
	}
	n := 0
	for _, seq := range seqs {
		raw, err := dead.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, geopulse.Errorf(geopulse.ENOTFOUND, "No dead letter %d.", seq)
		} else if err != nil {
			return n, fmt.Errorf("read dead letter %d: %w", seq, err)
		}
		d := newDeadLetter(raw)
		if !strings.HasPrefix(d.Subject, subjectPosts) && !strings.HasPrefix(d.Subject, subjectVision) {
			return n, geopulse.Errorf(geopulse.EINVALID, "Dead letter %d has no original subject in %s or %s.", seq, StreamPosts, StreamVision)
		}
		if _, err := s.js.PublishMsg(ctx, &natsgo.Msg{Subject: d.Subject, Data: d.Data}); err != nil {
			return n, fmt.Errorf("republish dead letter %d: %w", seq, err)
		}
		if err := dead.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, fmt.Errorf("delete dead letter %d: %w", seq, err)
		}
		n++
	}
	return n, nil
}

// RedriveAll re-drives every dead letter present when it starts.
func (s *Stream) RedriveAll(ctx context.Context) (int, error) {
	seqs, err := s.deadSeqs(ctx)
	if err != nil {
		return 0, err
	}
	return s.Redrive(ctx, seqs)
}

// DeleteDeadLetters removes dead letters for good, overwriting their bytes
// (they hold personal data). Unknown sequences are ENOTFOUND.
func (s *Stream) DeleteDeadLetters(ctx context.Context, seqs []uint64) (int, error) {
	dead, err := s.js.Stream(ctx, StreamDeadLetters)
	if err != nil {
		return 0, fmt.Errorf("stream %s: %w", StreamDeadLetters, err)
	}
	n := 0
	for _, seq := range seqs {
		// Look first: deleting a sequence past the end is a storage error,
		// not a "not found".
		if _, err := dead.GetMsg(ctx, seq); errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, geopulse.Errorf(geopulse.ENOTFOUND, "No dead letter %d.", seq)
		} else if err != nil {
			return n, fmt.Errorf("read dead letter %d: %w", seq, err)
		}
		if err := dead.SecureDeleteMsg(ctx, seq); err != nil {
			return n, fmt.Errorf("delete dead letter %d: %w", seq, err)
		}
		n++
	}
	return n, nil
}

// DeleteAllDeadLetters removes every dead letter present when it starts.
func (s *Stream) DeleteAllDeadLetters(ctx context.Context) (int, error) {
	seqs, err := s.deadSeqs(ctx)
	if err != nil {
		return 0, err
	}
	return s.DeleteDeadLetters(ctx, seqs)
}

func (s *Stream) deadSeqs(ctx context.Context) ([]uint64, error) {
	var seqs []uint64
	var after uint64
	for {
		page, err := s.DeadLetters(ctx, after, 1000)
		if err != nil {
			return nil, err
		}
		if len(page) == 0 {
			return seqs, nil
		}
		for _, d := range page {
			seqs = append(seqs, d.Seq)
		}
		after = page[len(page)-1].Seq
	}
}
