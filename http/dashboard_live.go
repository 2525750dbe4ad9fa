package http

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"time"

	"github.com/geopulse/geopulse"
)

// The live feed (GET /v1/posts/stream) is server-sent events over polling:
// every StreamPollInterval it asks the store for the newest posts that match
// the filter and sends those it has not sent yet. Polling the store rather
// than listening to the pipeline means a stream sees posts ingested by any
// process (API and workers may run apart) at the cost of one small indexed
// query per stream per second.
const (
	// streamLateness is how far behind the newest post a post's taken_at
	// may be and still be picked up: sources deliver with some delay.
	streamLateness = 2 * time.Minute
	// streamBatch bounds the posts of one poll (the newest win).
	streamBatch = 200
	// streamHeartbeat is the longest silence: a comment line keeps proxies
	// from closing an idle connection and tells a dead client apart.
	streamHeartbeat = 15 * time.Second
	// streamMaxDuration ends every stream after a while; EventSource
	// clients reconnect by themselves with Last-Event-ID, which rebalances
	// streams across servers and bounds what one connection holds.
	streamMaxDuration = 30 * time.Minute
	// streamWriteTimeout bounds each write, overriding the server's
	// whole-response WriteTimeout, which a stream would always exceed.
	streamWriteTimeout = 30 * time.Second
	// streamRetry is the reconnection delay suggested to clients.
	streamRetry = 3 * time.Second
)

// handleStreamPosts streams posts as they arrive, with the filters of
// GET /v1/posts. Each post is an event "post" whose data is the post as
// the feed shows it and whose id is its taken_at: a reconnecting client
// sends it back as Last-Event-ID (or as ?since=; the header wins) and
// resumes from there. Without either the stream starts now.
func (s *Server) handleStreamPosts(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	v := r.URL.Query()
	for _, p := range []string{"from", "to", "cursor"} {
		if v.Get(p) != "" {
			s.Error(w, r, paramError(p, "The live feed takes no %s; use since to resume from a time.", p))
			return
		}
	}
	q, err := feedQueryFromURL(v)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if v.Get("limit") == "" {
		q.Limit = streamBatch
	}
	filter, err := q.filter(ws.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	// A reconnecting EventSource sends Last-Event-ID with the URL it first
	// used: the header is the newer position, so it wins over ?since=.
	sinceParam, sinceValue := "since", v.Get("since")
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		sinceParam, sinceValue = "last_event_id", id
	}
	since, err := parseTime(sinceParam, sinceValue)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if since.IsZero() {
		since = s.now().UTC()
	}
	if n := s.web.streams.Add(1); n > int64(s.web.cfg.MaxStreams) {
		s.web.streams.Add(-1)
		s.Error(w, r, geopulse.Errorf(geopulse.ETOOMANY, "Too many live feeds are open; try again shortly."))
		return
	}
	defer s.web.streams.Add(-1)

	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Accel-Buffering", "no") // nginx: do not buffer the stream
	w.WriteHeader(http.StatusOK)

	st := &liveStream{s: s, w: w, rc: http.NewResponseController(w), filter: filter, since: since,
		watermark: since, seen: make(map[int64]time.Time)}
	var buf bytes.Buffer
	buf.WriteString("retry: " + formatID(streamRetry.Milliseconds()) + "\n: geopulse live feed\n\n")
	if !st.write(buf.Bytes()) {
		return
	}

	ctx := r.Context()
	poll := time.NewTicker(s.web.cfg.StreamPollInterval)
	defer poll.Stop()
	end := time.NewTimer(streamMaxDuration)
	defer end.Stop()
	lastWrite := time.Now()
	for {
		sent, ok := st.poll(r)
		if !ok {
			return
		}
		if sent {
			lastWrite = time.Now()
		} else if time.Since(lastWrite) >= streamHeartbeat {
			if !st.write([]byte(": ping\n\n")) {
				return
			}
			lastWrite = time.Now()
		}
		select {
		case <-ctx.Done():
			return
		case <-s.web.stop:
			return
		case <-end.C:
			return
		case <-poll.C:
		}
	}
}

// liveStream is one connection's state: what it has sent, bounded to the
// posts a poll can still return.
type liveStream struct {
	s      *Server
	w      http.ResponseWriter
	rc     *http.ResponseController
	filter geopulse.PostFilter
	since  time.Time
	// watermark is the newest taken_at seen; each poll looks back
	// streamLateness from it.
	watermark time.Time
	seen      map[int64]time.Time // post id → taken_at
	polled    bool
}

// poll sends the posts that arrived since the last poll. It reports
// whether it wrote anything, and false in ok when the stream must end.
func (st *liveStream) poll(r *http.Request) (sent, ok bool) {
	f := st.filter
	f.From = st.watermark.Add(-streamLateness)
	posts, _, err := st.s.Posts.FindPosts(r.Context(), f)
	if err != nil {
		if r.Context().Err() != nil {
			return false, false
		}
		// A failed poll is retried at the next tick: the store may be
		// briefly busy, and the client would only reconnect to the same.
		st.s.logger.ErrorContext(r.Context(), "live feed poll", slog.Any(keyError, err))
		return false, true
	}
	var fresh []*geopulse.Post
	for _, p := range posts {
		if _, dup := st.seen[p.ID]; dup {
			continue
		}
		st.seen[p.ID] = p.TakenAt
		// The first poll only learns what was there before the stream
		// opened; posts from since on are news to the client.
		if st.polled || !p.TakenAt.Before(st.since) {
			fresh = append(fresh, p)
		}
		if p.TakenAt.After(st.watermark) {
			st.watermark = p.TakenAt
		}
	}
	st.polled = true
	horizon := st.watermark.Add(-streamLateness)
	for id, t := range st.seen {
		if t.Before(horizon) {
			delete(st.seen, id)
		}
	}
	if len(fresh) == 0 {
		return false, true
	}
	// The store answers newest first; events go oldest first, so that the
	// last event id received is the newest time the client has.
	slices.SortStableFunc(fresh, func(a, b *geopulse.Post) int { return a.TakenAt.Compare(b.TakenAt) })
	var buf bytes.Buffer
	for _, p := range fresh {
		b, err := json.Marshal(newPostJSON(p))
		if err != nil {
			st.s.logger.ErrorContext(r.Context(), "live feed encode", slog.Any(keyError, err))
			continue
		}
		buf.WriteString("id: " + p.TakenAt.UTC().Format(time.RFC3339Nano) + "\nevent: post\ndata: ")
		buf.Write(b) // JSON has no raw newlines, so one data line suffices
		buf.WriteString("\n\n")
	}
	return true, st.write(buf.Bytes())
}

// write sends b and flushes it, within streamWriteTimeout.
func (st *liveStream) write(b []byte) bool {
	st.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout)) // unsupported writers just have no deadline
	if _, err := st.w.Write(b); err != nil {
		return false
	}
	return st.rc.Flush() == nil
}

// stopStreams ends every live stream, so that a graceful shutdown does not
// wait for clients that never hang up. It runs on http.Server shutdown.
func (s *Server) stopStreams() {
	if s.web != nil {
		s.web.stopOnce.Do(func() { close(s.web.stop) })
	}
}
