package nats_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/source/canonical"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// TestPublishAndStore: what intake accepts, the workers store, once; what
// the gate rejects is answered at once and never published; an exact
// resend is deduplicated by the stream and an edited post updates the
// stored one.
func TestPublishAndStore(t *testing.T) {
	n := newNATS(t, gpnats.Config{})
	st := newStore(t, true)
	reg := prometheus.NewRegistry()
	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Gate: pipeline.Gate{}, Now: clock, Registerer: reg})
	counter := &countingIngester{next: st.pl}
	runWorker(t, n.stream, gpnats.WorkerOptions{Ingester: counter, Registerer: reg})

	batch := posts("p", 50)
	bad := []struct {
		name   string
		mutate func(*geopulse.Post)
		reason string
	}{
		{"private account", func(p *geopulse.Post) { p.Author.Private = true }, geopulse.ReasonPrivateAccount},
		{"bad coordinates", func(p *geopulse.Post) { p.Lat = 91 }, geopulse.ReasonInvalidCoordinates},
		{"from the future", func(p *geopulse.Post) { p.TakenAt = now.Add(48 * time.Hour) }, geopulse.ReasonFutureTimestamp},
	}
	for i, b := range bad {
		b.mutate(batch[i])
	}
	errs, err := pub.Ingest(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	for i, b := range bad {
		if got := geopulse.ErrorReason(errs[i]); got != b.reason {
			t.Errorf("%s: reason %q, want %q", b.name, got, b.reason)
		}
	}
	for i := len(bad); i < len(batch); i++ {
		if errs[i] != nil {
			t.Fatalf("post %d: %v", i, errs[i])
		}
	}
	drained(t, n.stream)
	got := st.stored(t)
	if len(got) != len(batch)-len(bad) {
		t.Fatalf("stored %d posts, want %d", len(got), len(batch)-len(bad))
	}
	for id, k := range counter.seen {
		if k != 1 {
			t.Errorf("post %s reached the pipeline %d times, want once", id, k)
		}
	}

	// An exact resend is one message; an edit is a new one and lands.
	again := posts("p", 50)[len(bad):]
	edited := post("p-10")
	edited.Caption = "edited #tea"
	edited.Likes = 99
	if _, err := pub.Ingest(t.Context(), append(again, edited)); err != nil {
		t.Fatal(err)
	}
	drained(t, n.stream)
	if d := metricValue(t, reg, "geopulse_intake_posts_total", "duplicate"); d != float64(len(again)) {
		t.Errorf("duplicates = %v, want %d", d, len(again))
	}
	got = st.stored(t)
	if p := got["p-10"]; p == nil || p.Caption != "edited #tea" || p.Likes != 99 {
		t.Fatalf("edited post = %+v", p)
	}
	if counter.seen["p-11"] != 1 {
		t.Errorf("a deduplicated resend reached the pipeline: %d", counter.seen["p-11"])
	}
}

// TestPublishBody: the message is the canonical JSON of the post, with the
// body's hash as Nats-Msg-Id, on the source's subject.
func TestPublishBody(t *testing.T) {
	n := newNATS(t, gpnats.Config{})
	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Now: clock})
	tests := []struct {
		name, source, subject string
	}{
		{"plain", "instagram", "geopulse.posts.instagram"},
		{"dots and spaces", "my.source x", "geopulse.posts.my_source_x"},
		{"wildcards", "a*b>c", "geopulse.posts.a_b_c"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := post("body-" + tt.name)
			p.Source = tt.source
			want := canonical.AppendJSON(nil, p)
			if _, err := pub.Ingest(t.Context(), []*geopulse.Post{p}); err != nil {
				t.Fatal(err)
			}
			msg := lastMessage(t, n.stream, tt.subject)
			if string(msg.Data) != string(want) {
				t.Errorf("body = %s, want %s", msg.Data, want)
			}
			if id := msg.Header.Get("Nats-Msg-Id"); id != gpnats.MsgID(want) {
				t.Errorf("msg id = %q, want %q", id, gpnats.MsgID(want))
			}
		})
	}
}

// TestBackpressure: a full stream and lagging workers make intake refuse
// whole batches with ETOOMANY, and the HTTP API answers 429 with
// Retry-After.
func TestBackpressure(t *testing.T) {
	tests := []struct {
		name string
		cfg  gpnats.Config
		opts gpnats.PublisherOptions
	}{
		{"stream full", gpnats.Config{MaxBytes: 16 << 10}, gpnats.PublisherOptions{MaxLag: -1}},
		{"workers lagging", gpnats.Config{}, gpnats.PublisherOptions{MaxLag: 30, LagInterval: time.Nanosecond}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNATS(t, tt.cfg)
			st := newStore(t, true)
			tt.opts.Now = clock
			pub := gpnats.NewPublisher(n.stream, tt.opts)
			// No worker runs: the backlog only grows. Publish until refused.
			var refused error
			for i := 0; i < 100 && refused == nil; i++ {
				errs, err := pub.Ingest(t.Context(), posts(fmt.Sprintf("b%d", i), 10))
				if err != nil {
					refused = err
					break
				}
				for _, e := range errs {
					// The batch that fills the stream is partly refused.
					if e != nil && geopulse.ErrorCode(e) != geopulse.ETOOMANY {
						t.Fatalf("batch %d: item error %v", i, e)
					}
				}
			}
			if geopulse.ErrorCode(refused) != geopulse.ETOOMANY {
				t.Fatalf("intake never refused: %v", refused)
			}

			srv := &gphttp.Server{Workspaces: st.store, Places: st.pl.Places(), Posts: st.store, Analytics: st.store, Ingester: pub}
			ts := httptest.NewServer(srv.Handler())
			defer ts.Close()
			key := geopulse.NewAPIKey()
			if err := st.store.CreateAPIKey(t.Context(), st.ws.ID, geopulse.HashAPIKey(key)); err != nil {
				t.Fatal(err)
			}
			body := string(canonical.AppendJSON(nil, post("http-1"))) + "\n"
			req, _ := http.NewRequest("POST", ts.URL+"/v1/posts", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+key)
			req.Header.Set("Content-Type", "application/x-ndjson")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") == "" {
				t.Fatalf("POST /v1/posts = %s, Retry-After %q; want 429 with Retry-After", resp.Status, resp.Header.Get("Retry-After"))
			}
		})
	}
}

// TestPublisherClose: Close waits for batches in flight and refuses new ones.
func TestPublisherClose(t *testing.T) {
	n := newNATS(t, gpnats.Config{})
	pub := gpnats.NewPublisher(n.stream, gpnats.PublisherOptions{Now: clock})
	if _, err := pub.Ingest(t.Context(), posts("c", 5)); err != nil {
		t.Fatal(err)
	}
	if err := pub.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := pub.Ingest(t.Context(), posts("d", 1)); geopulse.ErrorCode(err) != geopulse.ETOOMANY {
		t.Fatalf("ingest after close: %v, want ETOOMANY", err)
	}
}

// metricValue is the value of the series of name with a label of value label.
func metricValue(t *testing.T, reg *prometheus.Registry, name, label string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetValue() == label {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

// lastMessage reads the last message of POSTS on subject.
func lastMessage(t *testing.T, s *gpnats.Stream, subject string) *jetstream.RawStreamMsg {
	t.Helper()
	js, err := jetstream.New(s.Conn())
	if err != nil {
		t.Fatal(err)
	}
	posts, err := js.Stream(t.Context(), gpnats.StreamPosts)
	if err != nil {
		t.Fatal(err)
	}
	m, err := posts.GetLastMsgForSubject(t.Context(), subject)
	if err != nil {
		t.Fatal(err)
	}
	return m
}
