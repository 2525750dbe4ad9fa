package nats_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/source/canonical"
	natsgo "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// purgeWorld is what TestPurge puts in the streams: each message's body by
// a name, and the subject it went to.
type purgeWorld struct {
	posts map[string][]byte // in POSTS
	dead  map[string][]byte // in DEADLETTERS (the original body)
}

// janePost is a post of Jane (account a-jane, handle Jane.Doe) on source.
func janePost(source, id string) *geopulse.Post {
	p := post(id)
	p.Source, p.Author.SourceID, p.Author.Handle = source, "a-jane", "Jane.Doe"
	p.Caption = "secret-caption-" + id
	return p
}

func body(p *geopulse.Post) []byte { return canonical.AppendJSON(nil, p) }

// fillPurgeWorld publishes the world straight to the streams (no worker
// runs, so nothing moves).
func fillPurgeWorld(t *testing.T, s *gpnats.Stream) *purgeWorld {
	t.Helper()
	bob := post("b1")
	bob.Caption, bob.Mentions = "with @Jane.Doe", []string{"jane.doe"}
	renamed := janePost("test", "j3")
	renamed.Author.Handle = "jd_new" // her account under a new handle
	w := &purgeWorld{
		posts: map[string][]byte{
			"jane 1":               body(janePost("test", "j1")),
			"jane 2":               body(janePost("test", "j2")),
			"jane renamed":         body(renamed),
			"jane on other source": body(janePost("other", "o1")),
			"bob mentions jane":    body(bob),
			"scrub of jane": canonical.AppendEventJSON(nil, &geopulse.ComplianceEvent{
				Kind: geopulse.ComplianceScrubGeo, Source: "test", AuthorSourceID: "a-jane"}),
			"delete of a post": canonical.AppendEventJSON(nil, &geopulse.ComplianceEvent{
				Kind: geopulse.ComplianceDeletePost, Source: "test", SourceID: "j1"}),
		},
		dead: map[string][]byte{
			"jane store failed":   body(janePost("test", "j4")),
			"jane undecodable":    []byte(`{"v":1,"source":"test","author":{"handle":"@JANE.DOE"},"location":{"lat":999}}`),
			"jane truncated":      []byte(`{"v":1,"source":"test","author":{"source_id":"a-jane","handle":"Ja`),
			"bob undecodable":     []byte(`{"v":1,"source":"test","author":{"handle":"bob"},"caption":"hi","location":{"lat":999}}`),
			"jane other source":   body(janePost("other", "o2")),
			"not json at all \"x": []byte("\x00\xff\"\\"),
		},
	}
	js, err := jetstream.New(s.Conn())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, name := range slices.Sorted(mapKeys(w.posts)) {
		p, ev, err := canonical.DecodeMessage(w.posts[name], canonical.Limits{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		source := "test"
		if p != nil {
			source = p.Source
		} else if ev != nil {
			source = ev.Source
		}
		if _, err := js.Publish(ctx, "geopulse.posts."+source, w.posts[name]); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range slices.Sorted(mapKeys(w.dead)) {
		msg := &natsgo.Msg{Subject: "geopulse.dead." + gpnats.ReasonUndecodable, Data: w.dead[name], Header: natsgo.Header{}}
		msg.Header.Set(gpnats.HeaderReason, gpnats.ReasonUndecodable)
		if _, err := js.PublishMsg(ctx, msg); err != nil {
			t.Fatal(err)
		}
	}
	return w
}

func mapKeys(m map[string][]byte) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// streamBodies returns the bodies left in a stream.
func streamBodies(t *testing.T, s *gpnats.Stream, name string) [][]byte {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(s.Conn())
	if err != nil {
		t.Fatal(err)
	}
	str, err := js.Stream(ctx, name)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for seq := uint64(1); ; {
		raw, err := str.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(">"))
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			return out
		} else if err != nil {
			t.Fatal(err)
		}
		out = append(out, raw.Data)
		seq = raw.Sequence + 1
	}
}

// names returns the names of the world's bodies that are in got.
func names(world map[string][]byte, got [][]byte) []string {
	var out []string
	for name, b := range world {
		for _, g := range got {
			if bytes.Equal(b, g) {
				out = append(out, name)
				break
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestPurge(t *testing.T) {
	janeKey := geopulse.HandleKey("test", "jane.doe")
	tests := []struct {
		name       string
		req        gpnats.PurgeRequest
		removed    []string // from POSTS
		removedDLQ []string
	}{
		{
			name:       "by account id",
			req:        gpnats.PurgeRequest{Source: "test", AuthorSourceID: "a-jane"},
			removed:    []string{"jane 1", "jane 2", "jane renamed", "scrub of jane"},
			removedDLQ: []string{"jane store failed", "jane truncated"},
		},
		{
			// Her posts by handle name her account, whose renamed post
			// and event go too (a second pass finds what came before).
			name:       "by handle key",
			req:        gpnats.PurgeRequest{Source: "test", HandleKey: janeKey},
			removed:    []string{"jane 1", "jane 2", "jane renamed", "scrub of jane"},
			removedDLQ: []string{"jane store failed", "jane truncated", "jane undecodable"},
		},
		{
			name:       "by both",
			req:        gpnats.PurgeRequest{Source: "test", AuthorSourceID: "a-jane", HandleKey: janeKey},
			removed:    []string{"jane 1", "jane 2", "jane renamed", "scrub of jane"},
			removedDLQ: []string{"jane store failed", "jane truncated", "jane undecodable"},
		},
		{
			name: "nobody",
			req:  gpnats.PurgeRequest{Source: "test", AuthorSourceID: "a-nobody", HandleKey: geopulse.HandleKey("test", "nobody")},
		},
		{
			name:       "her other source",
			req:        gpnats.PurgeRequest{Source: "other", AuthorSourceID: "a-jane"},
			removed:    []string{"jane on other source"},
			removedDLQ: []string{"jane other source"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newNATS(t, gpnats.Config{})
			w := fillPurgeWorld(t, e.stream)
			// The last report of each stream and pass.
			last := map[string]map[int]gpnats.PurgeProgress{gpnats.StreamPosts: {}, gpnats.StreamVision: {}, gpnats.StreamDeadLetters: {}}
			tt.req.Progress = func(p gpnats.PurgeProgress) { last[p.Stream][p.Pass] = p }
			res, err := e.stream.Purge(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Posts != len(tt.removed) || res.DeadLetters != len(tt.removedDLQ) {
				t.Fatalf("removed %d posts, %d dead letters; want %d, %d", res.Posts, res.DeadLetters, len(tt.removed), len(tt.removedDLQ))
			}
			scanned := 0
			for _, c := range []struct {
				stream  string
				world   map[string][]byte
				removed []string
			}{
				{gpnats.StreamPosts, w.posts, tt.removed},
				{gpnats.StreamDeadLetters, w.dead, tt.removedDLQ},
			} {
				var want []string
				for name := range c.world {
					if !slices.Contains(c.removed, name) {
						want = append(want, name)
					}
				}
				slices.Sort(want)
				if got := names(c.world, streamBodies(t, e.stream, c.stream)); !slices.Equal(got, want) {
					t.Errorf("%s keeps %q, want %q", c.stream, got, want)
				}
				removed := 0
				for _, p := range last[c.stream] {
					removed += p.Removed
					scanned += p.Scanned
				}
				if removed != len(c.removed) || last[c.stream][1].Scanned == 0 {
					t.Errorf("progress of %s = %+v, want %d removed", c.stream, last[c.stream], len(c.removed))
				}
			}
			// POSTS is read on the source's subject only; dead letters all.
			if got, want := last[gpnats.StreamDeadLetters][1].Scanned, len(w.dead); got != want {
				t.Errorf("scanned %d dead letters, want %d", got, want)
			}
			for _, p := range last[gpnats.StreamVision] {
				scanned += p.Scanned // none: no vision worker queued jobs
			}
			if res.Scanned != scanned {
				t.Errorf("result scanned %d, progress %d", res.Scanned, scanned)
			}
		})
	}
}

// TestPurgeOverwrites proves that a purged message leaves no readable copy
// in the stream's files: SecureDeleteMsg overwrites it, and nothing else
// (indexes, caches) kept its body.
func TestPurgeOverwrites(t *testing.T) {
	e := newNATS(t, gpnats.Config{})
	fillPurgeWorld(t, e.stream)
	needles := [][]byte{[]byte("secret-caption-j1"), []byte("secret-caption-j4")}
	if got := filesHolding(t, e.dir, needles); len(got) == 0 {
		t.Fatal("the captions are in no file before the purge: the test proves nothing")
	}
	if _, err := e.stream.Purge(context.Background(), gpnats.PurgeRequest{Source: "test", AuthorSourceID: "a-jane"}); err != nil {
		t.Fatal(err)
	}
	if got := filesHolding(t, e.dir, needles); len(got) > 0 {
		t.Fatalf("purged bytes still in %v", got)
	}
	if got := filesHolding(t, e.dir, [][]byte{[]byte("secret-caption-o1")}); len(got) == 0 {
		t.Fatal("a post of another source is gone from the files")
	}
}

// filesHolding lists the files under dir that contain any needle.
func filesHolding(t *testing.T, dir string, needles [][]byte) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, n := range needles {
			if bytes.Contains(b, n) {
				out = append(out, path)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestPurgeInvalidAndCancelled(t *testing.T) {
	e := newNATS(t, gpnats.Config{})
	fillPurgeWorld(t, e.stream)
	for _, req := range []gpnats.PurgeRequest{{AuthorSourceID: "a-jane"}, {Source: "test"}} {
		if _, err := e.stream.Purge(context.Background(), req); err == nil {
			t.Fatalf("purge %+v: no error", req)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.stream.Purge(ctx, gpnats.PurgeRequest{Source: "test", AuthorSourceID: "a-jane"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled purge: %v", err)
	}
	if n := len(streamBodies(t, e.stream, gpnats.StreamPosts)); n != 7 {
		t.Fatalf("a cancelled purge left %d of 7 messages", n)
	}
}

// FuzzPurgeMatches feeds arbitrary bodies (dead letters are whatever a
// sender sent) to the matcher, which must not panic on any of them.
func FuzzPurgeMatches(f *testing.F) {
	for _, b := range [][]byte{
		body(janePost("test", "j1")),
		[]byte(`{"v":1,"source":"test","author":{"handle":"@JANE.DOE"},"location":{"lat":999}}`),
		[]byte(`{"v":1,"source":"test","author":{"source_id":"a-jane","handle":"Ja`),
		[]byte(`"\`), []byte(`"\u12"`), []byte("\"\xff\""),
	} {
		f.Add(b)
	}
	req := gpnats.PurgeRequest{Source: "test", AuthorSourceID: "a-jane", HandleKey: geopulse.HandleKey("test", "jane.doe")}
	f.Fuzz(func(t *testing.T, data []byte) {
		req.Matches(data)
	})
}

// BenchmarkPurge scans 200,000 posts of which none is the person's: the
// cost of an erasure's stream pass (messages/s is the figure Purge's doc
// quotes).
func BenchmarkPurge(b *testing.B) {
	e := newNATS(b, gpnats.Config{})
	js, err := jetstream.New(e.stream.Conn())
	if err != nil {
		b.Fatal(err)
	}
	const n = 200_000
	for i := range n {
		if _, err := js.PublishAsync("geopulse.posts.test", body(post(fmt.Sprintf("p%d", i)))); err != nil {
			b.Fatal(err)
		}
		if i%2000 == 1999 {
			<-js.PublishAsyncComplete() // stay under the pending limit
		}
	}
	<-js.PublishAsyncComplete()
	req := gpnats.PurgeRequest{Source: "test", AuthorSourceID: "a-nobody", HandleKey: geopulse.HandleKey("test", "nobody")}
	// CPU time (this process: the scan and the embedded server) is the
	// figure that survives a busy machine; msgs/s is wall-clock.
	cpu := func() time.Duration {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	for b.Loop() {
		res, err := e.stream.Purge(context.Background(), req)
		if err != nil || res.Scanned != n {
			b.Fatalf("scanned %d, %v", res.Scanned, err)
		}
	}
	b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "msgs/s")
	b.ReportMetric(float64(cpu()-start)/float64(time.Microsecond)/float64(n*b.N), "cpu-µs/msg")
}
