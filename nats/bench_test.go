package nats_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/simulate"
	natsgo "github.com/nats-io/nats.go"
)

// benchPosts are realistic simulated posts (~700 bytes of canonical JSON).
func benchPosts(n int) []*geopulse.Post {
	w := simulate.New(simulate.Options{Seed: 3, End: now})
	out := make([]*geopulse.Post, n)
	for i := range out {
		out[i] = w.Next()
	}
	return out
}

// benchStream opens the streams on an embedded server, over the in-process
// pipe (what serve uses) or TCP loopback (what an external server costs).
func benchStream(b *testing.B, transport string, syncAlways bool) *gpnats.Stream {
	b.Helper()
	opts := gpnats.ServerOptions{Dir: b.TempDir(), SyncAlways: syncAlways}
	if transport == "tcp" {
		opts.Host = "127.0.0.1"
	}
	srv, err := gpnats.StartServer(opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { srv.Shutdown() })
	var nc *natsgo.Conn
	if transport == "tcp" {
		nc, err = gpnats.Dial(srv.ClientURL(), "bench", nil)
	} else {
		nc, err = srv.Connect("bench")
	}
	if err != nil {
		b.Fatal(err)
	}
	s, err := gpnats.Open(context.Background(), nc, gpnats.Config{}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkPublish: Publisher.Ingest of batches of 1,000 posts: encode,
// publish, wait for every PubAck. Each batch is new posts (distinct ids).
// "×4" runs four publishers at once, as concurrent HTTP requests do; one
// publisher is bound by the round trip of its batch, not by CPU. "sync"
// fsyncs every message (nats_sync: always).
func BenchmarkPublish(b *testing.B) {
	for _, tc := range []struct {
		transport string
		clients   int
		sync      bool
	}{{"inprocess", 1, false}, {"inprocess", 4, false}, {"tcp", 4, false}, {"inprocess", 4, true}} {
		name := fmt.Sprintf("%s×%d", tc.transport, tc.clients)
		if tc.sync {
			name += "/sync"
		}
		b.Run(name, func(b *testing.B) {
			s := benchStream(b, tc.transport, tc.sync)
			pub := gpnats.NewPublisher(s, gpnats.PublisherOptions{MaxLag: -1})
			batches := make([][]*geopulse.Post, tc.clients)
			for i := range batches {
				batches[i] = benchPosts(1000)
				for _, p := range batches[i] {
					p.SourceID += fmt.Sprint("-", i) // distinct posts per client
				}
			}
			var n atomic.Int64
			start := time.Now()
			for b.Loop() {
				var wg sync.WaitGroup
				for _, batch := range batches {
					wg.Go(func() {
						for _, p := range batch {
							p.Likes++ // a new body, so not a duplicate
						}
						if _, err := pub.Ingest(context.Background(), batch); err != nil {
							b.Error(err)
						}
						n.Add(int64(len(batch)))
					})
				}
				wg.Wait()
			}
			b.ReportMetric(float64(n.Load())/time.Since(start).Seconds(), "posts/s")
		})
	}
}

// discardIngester counts posts and stores nothing: it isolates the stream.
type discardIngester struct{ n atomic.Int64 }

func (d *discardIngester) Ingest(_ context.Context, posts []*geopulse.Post) ([]error, error) {
	d.n.Add(int64(len(posts)))
	return make([]error, len(posts)), nil
}

// BenchmarkPublishConsume: publish batches of 1,000 and have a worker
// fetch, decode and ack them (into a pipeline that stores nothing); the
// loop ends when the worker has consumed everything published.
func BenchmarkPublishConsume(b *testing.B) {
	for _, transport := range []string{"inprocess", "tcp"} {
		b.Run(transport, func(b *testing.B) {
			s := benchStream(b, transport, false)
			pub := gpnats.NewPublisher(s, gpnats.PublisherOptions{MaxLag: -1})
			sink := &discardIngester{}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() {
				gpnats.NewWorker(s, gpnats.WorkerOptions{Ingester: sink, Concurrency: 2}).Run(ctx)
				close(done)
			}()
			batch := benchPosts(1000)
			n := 0
			start := time.Now()
			for b.Loop() {
				for _, p := range batch {
					p.Likes++
				}
				if _, err := pub.Ingest(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
				n += len(batch)
			}
			// Until the worker has taken everything: that is the throughput.
			deadline := time.Now().Add(time.Minute)
			for sink.n.Load() < int64(n) && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			elapsed := time.Since(start)
			cancel()
			<-done
			if got := sink.n.Load(); got < int64(n) {
				b.Fatalf("consumed %d of %d", got, n)
			}
			b.ReportMetric(float64(n)/elapsed.Seconds(), "posts/s")
		})
	}
}

// BenchmarkEndToEnd: publisher → stream → two worker loops → pipeline →
// DuckDB, with 1,000 places, timed until every post is stored. Compare
// with BenchmarkPipelineDirect, the same posts without the stream.
func BenchmarkEndToEnd(b *testing.B) {
	st, world := benchStore(b)
	s := benchStream(b, "inprocess", false)
	pub := gpnats.NewPublisher(s, gpnats.PublisherOptions{MaxLag: -1})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		gpnats.NewWorker(s, gpnats.WorkerOptions{Ingester: st.pl, Concurrency: 2}).Run(ctx)
		close(done)
	}()
	defer func() { cancel(); <-done }()
	n := 0
	start := time.Now()
	for b.Loop() {
		var wg sync.WaitGroup
		for range 2 { // two concurrent intake batches, like two HTTP clients
			batch := make([]*geopulse.Post, 1000)
			for i := range batch {
				batch[i] = world.Next()
			}
			wg.Go(func() {
				if _, err := pub.Ingest(context.Background(), batch); err != nil {
					b.Error(err)
				}
			})
			n += len(batch)
		}
		wg.Wait()
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer wcancel()
	if err := s.WaitDrained(wctx); err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "posts/s")
}

// BenchmarkPipelineDirect: the same posts and store, straight into the
// pipeline in batches of 1,000: the baseline the stream adds to.
func BenchmarkPipelineDirect(b *testing.B) {
	st, world := benchStore(b)
	n := 0
	start := time.Now()
	for b.Loop() {
		for range 2 {
			batch := make([]*geopulse.Post, 1000)
			for i := range batch {
				batch[i] = world.Next()
			}
			if _, err := st.pl.Ingest(context.Background(), batch); err != nil {
				b.Fatal(err)
			}
			n += len(batch)
		}
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "posts/s")
}

// benchStore is a DuckDB store with a simulated world's 1,000 venues as
// places, and the world to draw posts from.
func benchStore(b *testing.B) (*storeEnv, *simulate.World) {
	b.Helper()
	st := newStore(b, false)
	world := simulate.New(simulate.Options{Seed: 5, Venues: 1000, End: now})
	places := world.Places()
	for _, p := range places {
		p.WorkspaceID = st.ws.ID
		if err := st.store.CreatePlace(context.Background(), p); err != nil {
			b.Fatal(err)
		}
	}
	var err error
	// A pipeline built after the places exist loads them all at once.
	if st.pl, err = pipeline.New(context.Background(), st.store, pipeline.Options{Now: clock, MaxFuture: 365 * 24 * time.Hour}); err != nil {
		b.Fatal(err)
	}
	return st, world
}
