package poll

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sync"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// graphMentionFields are the fields asked of a mentioned media. The id is
// asked for although the webhook named it: it is what the decoder keys
// the post by.
const graphMentionFields = "id,caption,media_type,media_product_type,media_url,permalink,timestamp,username,like_count,comments_count"

// mentionAttempts is how many rounds a mention is tried in before it is
// dropped. Each try already retries 429s, 5xx and network errors
// MaxRetries times, so a mention that fails this often is not coming.
const mentionAttempts = 3

// mentionsKey is where Run leaves the mentions it could not fetch before
// it stopped, beside the Instagram cursors.
const mentionsKey = "mentions"

// mention is a media that mentioned a venue's account, as the webhook
// reported it, waiting to be fetched.
type mention struct {
	Account  string `json:"account"`
	Media    string `json:"media"`
	At       int64  `json:"at_ms"` // when the webhook told us (Unix ms): the wait metric
	Attempts int    `json:"attempts,omitempty"`
}

// mentionQueue holds the Instagram runner's mentions. Mentioned, on any
// goroutine, only puts into queue; everything else runs on the runner's
// goroutine (or Poll's caller), which owns the client.
type mentionQueue struct {
	g        *graphPoller
	decoders map[string]source.DecodeFunc // by the venue's user id; read-only
	queue    chan mention
	held     []mention // failed (or restored) mentions, for the next round
	stalled  bool      // the sink refused one: leave the queue until the next round

	mu     sync.Mutex
	closed bool // Run stopped and saved the queue: refuse, so Meta delivers again
}

// Follows reports whether a venue of this poller has the Instagram account
// accountID, that is whether Mentioned would take its mentions. With one
// poller per workspace, the webhook's wiring asks it to route a mention.
func (p *Poller) Follows(accountID string) bool {
	if p.mentions == nil {
		return false
	}
	_, ok := p.mentions.decoders[accountID]
	return ok
}

// Mentioned queues a media that mentioned the Instagram account accountID,
// as the webhook reports it, and returns at once: the webhook must answer
// Meta within seconds. Run (or the next Poll) fetches the media from the
// Graph API and submits it as a post of the venue whose UserID is
// accountID.
//
// A mention is dropped, logged and counted, with a nil error (delivering
// it again would not help), when no venue has the account, when its ids
// are not Graph ids, or when it is a comment mention (commentID set): the
// comment's media was posted by someone who did not mention the venue,
// and attributing it to the venue would place them there on another
// person's word. When the queue is full, or Run has stopped, it returns an
// ETOOMANY *geopulse.Error, so that Meta delivers the mention again later.
func (p *Poller) Mentioned(ctx context.Context, accountID, mediaID, commentID string) error {
	q := p.mentions
	drop := func(result string) error {
		p.m.mentions.WithLabelValues(result).Inc()
		p.log.LogAttrs(ctx, slog.LevelWarn, "instagram mention dropped", slog.String(keyReason, result),
			slog.String(keyAccount, accountID), slog.String(keyMedia, mediaID))
		return nil
	}
	switch {
	case !p.Follows(accountID):
		return drop(mentionUnknownAccount)
	case commentID != "":
		return drop(mentionComment)
	case !graphID(accountID) || !graphID(mediaID):
		return drop(mentionInvalidID)
	}
	m := mention{Account: accountID, Media: mediaID, At: q.g.now().UnixMilli()}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		p.m.mentions.WithLabelValues(mentionClosed).Inc()
		return geopulse.Errorf(geopulse.ETOOMANY, "The Instagram poller has stopped; deliver the mention again later.")
	}
	select {
	case q.queue <- m:
	default:
		p.m.mentions.WithLabelValues(mentionFull).Inc()
		return geopulse.Errorf(geopulse.ETOOMANY, "The Instagram mention queue is full (%d); deliver the mention again later.", cap(q.queue))
	}
	p.m.mentions.WithLabelValues(mentionQueued).Inc()
	p.m.mentionsWaiting.Inc()
	return nil
}

// graphID reports whether s looks like a Graph id: digits. The media id
// goes into a field expansion, where anything else could change the
// request.
func graphID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// drain fetches the mentions queued when it starts, and no more, so that
// a steady stream of mentions cannot starve the targets.
func (q *mentionQueue) drain(ctx context.Context) error {
	var errs []error
	for n := len(q.queue); n > 0 && !q.stalled && ctx.Err() == nil; n-- {
		errs = append(errs, q.handle(ctx, <-q.queue))
	}
	return errors.Join(errs...)
}

// retryHeld fetches the mentions held from earlier rounds.
func (q *mentionQueue) retryHeld(ctx context.Context) error {
	due := q.held
	q.held = nil
	var errs []error
	for i, m := range due {
		if q.stalled || ctx.Err() != nil {
			q.held = append(q.held, due[i:]...)
			break
		}
		errs = append(errs, q.handle(ctx, m))
	}
	return errors.Join(errs...)
}

// handle fetches one mention and settles it: submitted, dropped, or held
// for the next round. It logs and counts the outcome and returns the
// failure, if any.
func (q *mentionQueue) handle(ctx context.Context, m mention) error {
	decode, ok := q.decoders[m.Account]
	if !ok { // restored after a restart without that venue
		q.drop(ctx, m, mentionUnknownAccount, nil)
		return nil
	}
	err := q.fetch(ctx, m, decode)
	switch {
	case err == nil:
		q.g.m.mentions.WithLabelValues(mentionSubmitted).Inc()
		q.g.m.mentionWait.Observe(max(q.g.now().Sub(time.UnixMilli(m.At)).Seconds(), 0))
		q.g.m.mentionsWaiting.Dec()
		return nil
	case ctx.Err() != nil:
		// Run is stopping: not an attempt; stop saves it.
		q.held = append(q.held, m)
		return nil
	}
	err = fmt.Errorf("instagram mention %s of %s: %w", m.Media, m.Account, err)
	reason := reasonOf(err)
	if reason == reasonSink {
		q.stalled = true
	}
	switch {
	case reason == reasonAPI:
		q.drop(ctx, m, mentionRefused, err)
	case m.Attempts+1 >= mentionAttempts:
		q.drop(ctx, m, mentionGivenUp, err)
	case len(q.held) >= cap(q.queue):
		q.drop(ctx, m, mentionOverflow, err)
	default:
		m.Attempts++
		q.held = append(q.held, m)
		q.g.m.mentions.WithLabelValues(mentionRetried).Inc()
		q.g.log.LogAttrs(ctx, slog.LevelWarn, "instagram mention held for the next round",
			slog.String(keyAccount, m.Account), slog.String(keyMedia, m.Media), slog.Any(keyError, err))
	}
	return err
}

func (q *mentionQueue) drop(ctx context.Context, m mention, result string, err error) {
	q.g.m.mentions.WithLabelValues(result).Inc()
	q.g.m.mentionsWaiting.Dec()
	attrs := []slog.Attr{slog.String(keyReason, result), slog.String(keyAccount, m.Account), slog.String(keyMedia, m.Media)}
	if err != nil {
		attrs = append(attrs, slog.Any(keyError, err))
	}
	q.g.log.LogAttrs(ctx, slog.LevelWarn, "instagram mention dropped", attrs...)
}

// fetch looks the mentioned media up through the poller's client (so the
// request waits its turn, backs off and honours Graph's limits like any
// other), unwraps it and submits it as a post of the account's venue.
func (q *mentionQueue) fetch(ctx context.Context, m mention, decode source.DecodeFunc) error {
	u, err := url.Parse(q.g.base + "/" + url.PathEscape(m.Account))
	if err != nil {
		return fmt.Errorf("build url: %w", err)
	}
	u.RawQuery = url.Values{"fields": {"mentioned_media.media_id(" + m.Media + "){" + graphMentionFields + "}"}}.Encode()
	body, err := q.g.client.get(ctx, u)
	if err != nil {
		return err
	}
	media, err := mentionedMedia(body, m.Media)
	if err != nil {
		return malformed(err)
	}
	derr, err := q.g.submit(ctx, decode, media, nil)
	if err != nil {
		return err
	}
	if derr != nil {
		q.g.log.LogAttrs(ctx, slog.LevelWarn, "instagram mention undecodable",
			slog.String(keyAccount, m.Account), slog.String(keyMedia, m.Media), slog.Any(keyError, derr))
	}
	return nil
}

// mentionedMedia takes the media out of a mention lookup's answer,
// {"mentioned_media": {media}, "id": account}. Graph gives a node's id
// whether asked or not; should it not, the id the webhook named is the
// media's, so it is filled in rather than the media refused.
func mentionedMedia(body []byte, mediaID string) ([]byte, error) {
	var env struct {
		Media json.RawMessage `json:"mentioned_media"`
	}
	if err := json.Unmarshal(body, &env); err != nil {
		return nil, err
	}
	var fields map[string]json.RawMessage
	if len(env.Media) == 0 || json.Unmarshal(env.Media, &fields) != nil || fields == nil {
		return nil, errors.New("no mentioned_media object")
	}
	if _, ok := fields["id"]; ok {
		return env.Media, nil
	}
	id, err := json.Marshal(mediaID)
	if err != nil {
		return nil, err
	}
	fields["id"] = id
	return json.Marshal(fields)
}

// restore opens the queue (again) and holds the mentions the last Run
// saved for the first round.
func (q *mentionQueue) restore(ctx context.Context) {
	q.mu.Lock()
	q.closed = false
	q.mu.Unlock()
	var saved []mention
	found, err := q.g.load(ctx, mentionsKey, &saved)
	if err != nil {
		q.g.log.LogAttrs(ctx, slog.LevelError, "instagram mentions not restored", slog.Any(keyError, err))
		return
	}
	if !found || len(saved) == 0 {
		return
	}
	for _, m := range saved {
		q.g.m.mentionsWaiting.Inc()
		if len(q.held) >= cap(q.queue) {
			q.drop(ctx, m, mentionOverflow, nil)
			continue
		}
		q.held = append(q.held, m)
	}
	// Cleared so that a crash does not bring them back a second time; if
	// that fails, they are fetched twice, which is harmless.
	if err := q.g.save(ctx, mentionsKey, []mention{}); err != nil {
		q.g.log.LogAttrs(ctx, slog.LevelWarn, "instagram mentions restored but not cleared", slog.Any(keyError, err))
	}
	q.g.log.LogAttrs(ctx, slog.LevelInfo, "instagram mentions restored", slog.Int(keyMentions, len(saved)))
}

// stop closes the queue, so that Mentioned refuses from now on (Meta
// delivers again, to the next run), and saves what is left in it.
func (q *mentionQueue) stop(ctx context.Context) {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	left := q.held
	q.held = nil
	for len(q.queue) > 0 {
		left = append(left, <-q.queue)
	}
	if len(left) == 0 {
		return
	}
	q.g.m.mentionsWaiting.Sub(float64(len(left)))
	if err := q.g.save(ctx, mentionsKey, left); err != nil {
		q.g.log.LogAttrs(ctx, slog.LevelError, "instagram mentions lost", slog.Int(keyMentions, len(left)), slog.Any(keyError, err))
		return
	}
	q.g.log.LogAttrs(ctx, slog.LevelInfo, "instagram mentions saved for the next run", slog.Int(keyMentions, len(left)))
}
