package nats

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
	"github.com/nats-io/nats.go/jetstream"
)

// PurgeRequest names the person whose raw copies Purge removes: the posts
// and compliance events of one account of Source, found by the account's
// id (AuthorSourceID) or by its handle (HandleKey, as geopulse.HandleKey
// computes it: the handle itself is not needed, so a request by handle of
// a person the store never knew works too). At least one is set.
type PurgeRequest struct {
	Source         string
	AuthorSourceID string
	HandleKey      int64
	// Progress, when set, is called after every fetched batch and at the
	// end of each stream.
	Progress func(PurgeProgress)
}

// PurgeProgress is how far a purge got in one stream.
type PurgeProgress struct {
	Stream  string // StreamPosts, StreamVision or StreamDeadLetters
	Pass    int    // 1; 2 when the streams are read again for learned accounts
	Scanned int    // messages read so far in Stream
	Removed int    // of them, deleted
	Seq     uint64 // last sequence read
	LastSeq uint64 // the stream's last sequence when the scan of it began
}

// PurgeResult counts what a purge removed.
type PurgeResult struct {
	Posts       int // messages deleted from POSTS (posts and events)
	Vision      int // jobs deleted from VISION
	DeadLetters int // messages deleted from DEADLETTERS
	Scanned     int // messages read in both streams
}

// purgeBatch is how many messages the server sends ahead of the scan.
const purgeBatch = 1000

// PurgeAuthor removes the posts and compliance events of an account from
// POSTS, VISION (counted with POSTS) and DEADLETTERS (see Purge). It is what an erasure calls.
func (s *Stream) PurgeAuthor(ctx context.Context, source, authorSourceID string, handleKey int64) (posts, deadLetters int, err error) {
	res, err := s.Purge(ctx, PurgeRequest{Source: source, AuthorSourceID: authorSourceID, HandleKey: handleKey})
	return res.Posts + res.Vision, res.DeadLetters, err
}

// Purge deletes, with SecureDeleteMsg (the message's bytes are overwritten
// in the stream's files, not just unlinked from the index), every message
// of the person req names:
//
//   - in POSTS, the messages on the source's subject whose canonical body is
//     a post of that account (its author id, or its handle's key) or a
//     compliance event about that account;
//   - in VISION, the labelling jobs (the same canonical bodies) of those
//     posts;
//   - in DEADLETTERS, whatever the subject, the dead letters whose original
//     body is such a message. A body that does not decode (why it is a dead
//     letter, often) still matches when one of its JSON strings is the
//     source and another the account id or a handle with the key: a broken
//     message that names the person goes too.
//
// A post found by its handle names its account, and that account's
// messages go too, handle or not (compliance events carry only the
// account): a request by handle works after the store forgot the account
// (an objection, then an erasure). When such an account is learned after
// the scan began, the streams are read a second time for it.
//
// Posts of other people that mention the person are theirs, and stay.
//
// Each stream is read through an ordered consumer from its first message
// to its last sequence at the start, so the work is bounded by what the
// stream held then; messages published meanwhile are not read (the gate
// refuses the person's new posts once the suppression is in every
// process's blocklist; erasing again after the blocklist refresh interval
// catches a straggler). ctx cancels the scan between messages; what was
// deleted stays deleted and is counted in the result returned with the
// error.
//
// Cost: the scan decodes every message. BenchmarkPurge, 200,000 posts on
// the embedded server: ~10 µs of CPU per message (scan, match and server
// together), 39,000–63,000 messages/s on the shared 2-core machine (load
// average 6–12), so a full 7-day POSTS of 15M posts takes 4–6 minutes,
// twice that when a second pass is needed; each deletion is one more
// request, negligible for one person.
func (s *Stream) Purge(ctx context.Context, req PurgeRequest) (PurgeResult, error) {
	var res PurgeResult
	if req.Source == "" || (req.AuthorSourceID == "" && req.HandleKey == 0) {
		return res, errors.New("purge: a source and an account id or handle key are required")
	}
	m := &matcher{req: &req, accounts: map[string]bool{}}
	if req.AuthorSourceID != "" {
		m.accounts[req.AuthorSourceID] = true
	}
	for m.pass = 1; m.pass <= 2; m.pass++ {
		m.learnedLate, m.scanned = false, false
		n, scanned, err := s.purgeStream(ctx, StreamPosts, subject(req.Source), m)
		res.Posts, res.Scanned = res.Posts+n, res.Scanned+scanned
		if err != nil {
			return res, err
		}
		n, scanned, err = s.purgeStream(ctx, StreamVision, subjectVision+subject(req.Source)[len(subjectPosts):], m)
		res.Vision, res.Scanned = res.Vision+n, res.Scanned+scanned
		if err != nil {
			return res, err
		}
		n, scanned, err = s.purgeStream(ctx, StreamDeadLetters, subjectDead+">", m)
		res.DeadLetters, res.Scanned = res.DeadLetters+n, res.Scanned+scanned
		if err != nil || !m.learnedLate {
			return res, err
		}
	}
	return res, nil
}

// matcher decides which messages a purge deletes; it learns the accounts
// of posts found by their handle.
type matcher struct {
	req      *PurgeRequest
	accounts map[string]bool
	// learnedLate is set when an account was learned after the pass had
	// read messages, which may have been its own.
	learnedLate bool
	scanned     bool
	pass        int
}

func (m *matcher) match(data []byte) bool {
	defer func() { m.scanned = true }()
	post, ev, err := canonical.DecodeMessage(data, decodeLimits)
	switch {
	case err == nil && post != nil:
		if post.Source != m.req.Source {
			return false
		}
		if m.accounts[post.Author.SourceID] {
			return true
		}
		if m.req.HandleKey == 0 || post.Author.Handle == "" || geopulse.HandleKey(post.Source, post.Author.Handle) != m.req.HandleKey {
			return false
		}
		if post.Author.SourceID != "" {
			m.accounts[post.Author.SourceID] = true
			m.learnedLate = m.learnedLate || m.scanned
		}
		return true
	case err == nil && ev != nil:
		return ev.Source == m.req.Source && m.accounts[ev.AuthorSourceID]
	}
	var source, person bool
	eachJSONString(data, func(s string) bool {
		source = source || s == m.req.Source
		person = person || m.accounts[s] ||
			(m.req.HandleKey != 0 && s != "" && geopulse.HandleKey(m.req.Source, s) == m.req.HandleKey)
		return source && person
	})
	return source && person
}

// purgeStream scans one stream's messages on filter and deletes those m
// matches, returning how many it deleted and read.
func (s *Stream) purgeStream(ctx context.Context, name, filter string, m *matcher) (removed, scanned int, err error) {
	req := m.req
	str, err := s.js.Stream(ctx, name)
	if err != nil {
		return 0, 0, fmt.Errorf("purge: stream %s: %w", name, err)
	}
	info, err := str.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return 0, 0, fmt.Errorf("purge: stream %s: %w", name, err)
	}
	pr := PurgeProgress{Stream: name, Pass: m.pass, LastSeq: info.State.LastSeq}
	report := func() {
		if req.Progress != nil {
			req.Progress(pr)
		}
	}
	defer report()
	if info.State.Msgs == 0 || len(info.State.Subjects) == 0 {
		return 0, 0, nil // nothing on the filter: reading would only wait
	}
	cons, err := str.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{filter},
		DeliverPolicy:  jetstream.DeliverAllPolicy,
	})
	if err != nil {
		return 0, 0, fmt.Errorf("purge: consumer on %s: %w", name, err)
	}
	// A continuous pull: the server sends the next messages while these
	// are matched.
	it, err := cons.Messages(jetstream.PullMaxMessages(purgeBatch))
	if err != nil {
		return 0, 0, fmt.Errorf("purge: consumer on %s: %w", name, err)
	}
	defer it.Stop()
	for {
		if err := ctx.Err(); err != nil {
			return pr.Removed, pr.Scanned, err
		}
		msg, err := s.nextMsg(ctx, it)
		if errors.Is(err, errPurgeIdle) {
			// Nothing came for a while though the end was not seen: the
			// tail aged out or was deleted meanwhile.
			if ci, ierr := cons.Info(ctx); ierr == nil && ci.NumPending == 0 {
				return pr.Removed, pr.Scanned, nil
			}
			continue
		} else if err != nil {
			return pr.Removed, pr.Scanned, fmt.Errorf("purge: read %s: %w", name, err)
		}
		meta, err := msg.Metadata()
		if err != nil {
			continue
		}
		if meta.Sequence.Stream > pr.LastSeq {
			return pr.Removed, pr.Scanned, nil // published after the start
		}
		pr.Scanned++
		pr.Seq = meta.Sequence.Stream
		if m.match(msg.Data()) {
			// Not found: aged out or deleted (a redrive) since it was read.
			if err := str.SecureDeleteMsg(ctx, pr.Seq); err == nil {
				pr.Removed++
			} else if !errors.Is(err, jetstream.ErrMsgNotFound) {
				return pr.Removed, pr.Scanned, fmt.Errorf("purge: delete %s message %d: %w", name, pr.Seq, err)
			}
		}
		if pr.Seq >= pr.LastSeq || meta.NumPending == 0 {
			return pr.Removed, pr.Scanned, nil
		}
		if pr.Scanned%purgeBatch == 0 {
			report()
		}
	}
}

// errPurgeIdle is nextMsg's answer when no message came for purgeIdle.
var errPurgeIdle = errors.New("no message")

// purgeIdle is how long a scan waits for the next message before it asks
// the server whether any is left.
const purgeIdle = 2 * time.Second

// nextMsg returns the iterator's next message, errPurgeIdle after
// purgeIdle without one, or ctx's error.
func (s *Stream) nextMsg(ctx context.Context, it jetstream.MessagesContext) (jetstream.Msg, error) {
	wait, cancel := context.WithTimeout(ctx, purgeIdle)
	defer cancel()
	msg, err := it.Next(jetstream.NextContext(wait))
	if err != nil && ctx.Err() == nil && wait.Err() != nil {
		return nil, errPurgeIdle
	}
	if err != nil && ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return msg, err
}

// Matches reports whether a message body (of POSTS, or the original body of
// a dead letter) is a post or an event of req's person, as Purge's first
// look at it decides (without the accounts Purge learns on the way).
func (req *PurgeRequest) Matches(data []byte) bool {
	m := &matcher{req: req, accounts: map[string]bool{}}
	if req.AuthorSourceID != "" {
		m.accounts[req.AuthorSourceID] = true
	}
	return m.match(data)
}

// eachJSONString calls fn with every string literal of data, which need not
// be valid JSON, until fn returns true. A literal whose escapes do not
// decode is passed as its raw bytes.
func eachJSONString(data []byte, fn func(string) bool) {
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		j := i + 1
		for j < len(data) && data[j] != '"' {
			if data[j] == '\\' {
				j++
			}
			j++
		}
		if j >= len(data) {
			return
		}
		var s string
		if err := json.Unmarshal(data[i:j+1], &s); err != nil {
			s = string(data[i+1 : j])
		}
		if fn(s) {
			return
		}
		i = j
	}
}
