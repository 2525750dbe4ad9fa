package http_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
)

// sseEvent is one server-sent event.
type sseEvent struct {
	id, event, data string
}

// sseStream reads events from an open stream in the background.
type sseStream struct {
	res    *http.Response
	events chan sseEvent
	cancel context.CancelFunc
}

// openStream connects to the live feed. The test's deadline, not a timer,
// bounds how long it waits for events.
func openStream(t *testing.T, e *env, path string, header map[string]string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, e.url+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	st := &sseStream{res: res, events: make(chan sseEvent, 100), cancel: cancel}
	if res.StatusCode != http.StatusOK {
		return st
	}
	go func() {
		defer close(st.events)
		defer res.Body.Close()
		sc := bufio.NewScanner(res.Body)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		var ev sseEvent
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if ev.event != "" || ev.data != "" {
					st.events <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.id = strings.TrimPrefix(line, "id: ")
			case strings.HasPrefix(line, "event: "):
				ev.event = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				ev.data += strings.TrimPrefix(line, "data: ")
			}
		}
	}()
	return st
}

// next returns the next post event's post.
func (st *sseStream) next(t *testing.T) post {
	t.Helper()
	for ev := range st.events {
		if ev.event != "post" {
			continue
		}
		var p post
		if err := json.Unmarshal([]byte(ev.data), &p); err != nil {
			t.Fatalf("event data %q: %v", ev.data, err)
		}
		if ev.id == "" {
			t.Error("post event without id")
		}
		return p
	}
	t.Fatal("stream ended")
	return post{}
}

func fastStreams(s *gphttp.Server) { s.Dashboard.StreamPollInterval = 5 * time.Millisecond }

func TestPostStream(t *testing.T) {
	e := newEnv(t, fastStreams)
	key := e.workspace("acme")
	pl := e.createVenue(key, "Louvre", louvre)
	e.createVenue(key, "Eiffel", eiffel)
	e.ingest(key, newPost("history", louvre, 1)) // before the stream opens: not news

	st := openStream(t, e, fmt.Sprintf("/v1/posts/stream?kind=photo,story&place=%d", pl.ID), map[string]string{"Authorization": "Bearer " + key})
	if st.res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", st.res.StatusCode)
	}
	if ct := st.res.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		t.Errorf("Content-Type = %q", ct)
	}
	if cc := st.res.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("Cache-Control = %q", cc)
	}

	video := newPost("video-at-louvre", louvre, 0)
	video.Kind = geopulse.KindVideo
	elsewhere := newPost("at-eiffel", eiffel, 0)
	live := newPost("live", louvre, 0)
	live.Caption = "just arrived"
	story := newPost("story", louvre, 0)
	story.Kind = geopulse.KindStory
	// Filtered-out posts go in first: if the stream leaked them they would
	// come before the ones it must deliver.
	e.ingest(key, video, elsewhere)
	e.ingest(key, live)
	got := st.next(t)
	if got.SourceID != "live" || got.Caption != "just arrived" || got.Author.Handle != "user_live" {
		t.Fatalf("first event is %+v, want the live post", got)
	}
	e.ingest(key, story)
	if got := st.next(t); got.SourceID != "story" || got.Kind != "story" {
		t.Fatalf("second event is %s (%s), want the story", got.SourceID, got.Kind)
	}
}

func TestPostStreamResume(t *testing.T) {
	e := newEnv(t, fastStreams)
	key := e.workspace("acme")
	e.createVenue(key, "Louvre", louvre)
	e.ingest(key, newPost("older", louvre, 3), newPost("newer", louvre, 1))

	tests := []struct {
		name   string
		path   string
		header map[string]string
		want   string
	}{
		{"since", "/v1/posts/stream?since=" + now.Add(-2*time.Hour).Format(time.RFC3339), nil, "newer"},
		{"Last-Event-ID", "/v1/posts/stream", map[string]string{"Last-Event-ID": now.Add(-4 * time.Hour).Format(time.RFC3339Nano)}, "older"},
		{"Last-Event-ID wins over since", "/v1/posts/stream?since=" + now.Add(-4*time.Hour).Format(time.RFC3339),
			map[string]string{"Last-Event-ID": now.Add(-2 * time.Hour).Format(time.RFC3339Nano)}, "newer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{"Authorization": "Bearer " + key}
			for k, v := range tt.header {
				h[k] = v
			}
			st := openStream(t, e, tt.path, h)
			if got := st.next(t); got.SourceID != tt.want {
				t.Errorf("first event %s, want %s", got.SourceID, tt.want)
			}
		})
	}
}

func TestPostStreamWithSession(t *testing.T) {
	e := newEnv(t, fastStreams)
	key := e.workspace("acme")
	e.createVenue(key, "Louvre", louvre)
	b := newBrowser(t, e)
	b.login(key)
	c := b.cookie("gp_session")
	st := openStream(t, e, "/v1/posts/stream", map[string]string{"Cookie": c.Name + "=" + c.Value})
	if st.res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", st.res.StatusCode)
	}
	e.ingest(key, newPost("via-cookie", louvre, 0))
	if got := st.next(t); got.SourceID != "via-cookie" {
		t.Errorf("event %s", got.SourceID)
	}
}

func TestPostStreamErrors(t *testing.T) {
	e := newEnv(t, fastStreams, func(s *gphttp.Server) { s.Dashboard.MaxStreams = 1 })
	key := e.workspace("acme")
	tests := []struct {
		name   string
		path   string
		status int
		code   string
		reason string
	}{
		{"bad kind", "/v1/posts/stream?kind=hologram", http.StatusBadRequest, geopulse.EINVALID, "invalid_kind"},
		{"from is not for streams", "/v1/posts/stream?from=2025-01-01T00:00:00Z", http.StatusBadRequest, geopulse.EINVALID, "invalid_from"},
		{"cursor is not for streams", "/v1/posts/stream?cursor=abc", http.StatusBadRequest, geopulse.EINVALID, "invalid_cursor"},
		{"bad since", "/v1/posts/stream?since=yesterday", http.StatusBadRequest, geopulse.EINVALID, "invalid_since"},
		{"no key", "/v1/posts/stream", http.StatusUnauthorized, geopulse.EUNAUTHORIZED, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			k := key
			if tt.status == http.StatusUnauthorized {
				k = ""
			}
			e.get(k, tt.path).wantError(t, tt.status, tt.code, tt.reason)
		})
	}
	t.Run("too many streams", func(t *testing.T) {
		first := openStream(t, e, "/v1/posts/stream", map[string]string{"Authorization": "Bearer " + key})
		if first.res.StatusCode != http.StatusOK {
			t.Fatalf("first stream: %d", first.res.StatusCode)
		}
		e.get(key, "/v1/posts/stream").wantError(t, http.StatusTooManyRequests, geopulse.ETOOMANY, "")
	})
}

// TestPostStreamShutdown: a graceful shutdown ends open live feeds instead
// of waiting for clients that never hang up.
func TestPostStreamShutdown(t *testing.T) {
	e := newEnv(t, fastStreams)
	key := e.workspace("acme")
	hs := e.server.HTTPServer("127.0.0.1:0")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	other := &env{t: t, url: "http://" + ln.Addr().String()}
	st := openStream(t, other, "/v1/posts/stream", map[string]string{"Authorization": "Bearer " + key})
	if st.res.StatusCode != http.StatusOK {
		t.Fatalf("status %d", st.res.StatusCode)
	}
	// Without the shutdown hook this would wait for the whole deadline and
	// fail with context.DeadlineExceeded.
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := hs.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	for range st.events { // the stream ends
	}
}
