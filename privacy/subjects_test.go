package privacy_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	_ "github.com/duckdb/duckdb-go/v2"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	gpnats "github.com/geopulse/geopulse/nats"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/privacy"
	"github.com/geopulse/geopulse/source/canonical"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// now is the clock of the store, the pipelines and the requests.
var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

// A café in Paris; every post lies within its 200 m, and within the
// museum of another workspace next to it.
const cafeLat, cafeLon = 48.8566, 2.3522

// person is one account of a person on one source, with everything that
// identifies it: what the erasure must leave nowhere.
type person struct {
	source, sourceID, handle, name, bio string
	posts                               []string // source ids
}

var (
	janeInsta = person{source: "insta", sourceID: "17841400001", handle: "Jane.Doe", name: "Jane Doerty",
		bio: "Pastry chef in Lyon", posts: []string{"ig-j1", "ig-j2", "ig-j3"}}
	janeX = person{source: "x", sourceID: "998877665", handle: "janedoe_x", name: "Jane D.",
		bio: "Croissants and climbing", posts: []string{"x-j1", "x-j2"}}
	bob = person{source: "insta", sourceID: "17841400002", handle: "bob.builds", name: "Bob Stone",
		bio: "Builder", posts: []string{"ig-b1", "ig-b2"}}
)

func (p person) post(i int) *geopulse.Post {
	taken := now.Add(-time.Duration(48-i*10) * time.Hour)
	return &geopulse.Post{
		Source: p.source, SourceID: p.posts[i], Kind: geopulse.KindPhoto,
		Author: geopulse.Author{SourceID: p.sourceID, Handle: p.handle, DisplayName: p.name, Bio: p.bio,
			AvatarURL: "https://cdn.example/avatars/" + p.sourceID + ".jpg", Followers: int64(1000 + i*10), Following: 80, PostsCount: 300},
		TakenAt: taken, ObservedAt: taken.Add(5 * time.Minute),
		Lat: cafeLat + float64(i)*0.0001, Lon: cafeLon, AccuracyM: 10, PlaceName: "Café de la Paix",
		Caption:   fmt.Sprintf("caption-%s #croissant with @friend_of_%d", p.posts[i], i),
		MediaURLs: []string{"https://cdn.example/media/" + p.posts[i] + ".jpg"},
		Likes:     int64(10 * i), Language: "fr",
	}
}

func (p person) allPosts() []*geopulse.Post {
	out := make([]*geopulse.Post, len(p.posts))
	for i := range out {
		out[i] = p.post(i)
	}
	return out
}

// words are the strings that identify the person anywhere: account id,
// handle, name, bio, post ids, captions.
func (p person) words() []string {
	out := []string{p.sourceID, p.handle, p.name, p.bio}
	for _, id := range p.posts {
		out = append(out, id, "caption-"+id)
	}
	return out
}

// needles are the words and the store's keys in decimal (as JSON documents
// and id lists carry them).
func (p person) needles() []string {
	out := p.words()
	for _, id := range p.ids() {
		out = append(out, strconv.FormatInt(id, 10))
	}
	return out
}

// ids are the person's store keys, which integer columns may hold.
func (p person) ids() []int64 {
	out := []int64{geopulse.AuthorID(p.source, p.sourceID)}
	for _, id := range p.posts {
		out = append(out, geopulse.PostID(p.source, id))
	}
	return out
}

// world is a DuckDB file, a pipeline over it, and an embedded NATS server
// with its streams, a worker and an intake publisher: geopulse serve.
type world struct {
	t       *testing.T
	ctx     context.Context
	path    string
	db      *duckdb.DB
	pl      *pipeline.Pipeline
	srv     *gpnats.Server
	natsDir string
	stream  *gpnats.Stream
	pub     *gpnats.Publisher
	stop    func() // the worker
}

func newWorld(t *testing.T) *world {
	t.Helper()
	w := &world{t: t, ctx: context.Background(), path: filepath.Join(t.TempDir(), "geopulse.duckdb"), natsDir: t.TempDir()}
	w.openStore()
	t.Cleanup(func() { w.db.Close() })
	for _, p := range []struct {
		ws   string
		name string
	}{{"acme", "Café"}, {"rival", "Museum"}} {
		ws := &geopulse.Workspace{Name: p.ws}
		if err := w.db.CreateWorkspace(w.ctx, ws); err != nil {
			t.Fatal(err)
		}
		pl := &geopulse.Place{WorkspaceID: ws.ID, Name: p.name, Center: &geopulse.LatLon{Lat: cafeLat, Lon: cafeLon}, RadiusM: 200}
		if err := w.pl.Places().CreatePlace(w.ctx, pl); err != nil {
			t.Fatal(err)
		}
	}
	var err error
	if w.srv, err = gpnats.StartServer(gpnats.ServerOptions{Dir: w.natsDir}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.srv.Shutdown() })
	nc, err := w.srv.Connect("test")
	if err != nil {
		t.Fatal(err)
	}
	if w.stream, err = gpnats.Open(w.ctx, nc, gpnats.Config{}, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.stream.Close() })
	w.startWorker()
	return w
}

// openStore opens the file and a pipeline over it.
func (w *world) openStore() {
	w.t.Helper()
	var err error
	if w.db, err = duckdb.Open(w.ctx, w.path, duckdb.Options{Now: clock, Threads: 2}); err != nil {
		w.t.Fatal(err)
	}
	if w.pl, err = pipeline.New(w.ctx, w.db, pipeline.Options{Now: clock}); err != nil {
		w.t.Fatal(err)
	}
}

// startWorker runs a worker and an intake publisher on the current pipeline.
func (w *world) startWorker() {
	ctx, cancel := context.WithCancel(w.ctx)
	done := make(chan error, 1)
	// Vision on: stored posts with media also wait in VISION, one more copy
	// an erasure must find.
	worker := gpnats.NewWorker(w.stream, gpnats.WorkerOptions{Ingester: w.pl, Complier: w.pl, MaxWait: 20 * time.Millisecond, Vision: true})
	go func() { done <- worker.Run(ctx) }()
	w.pub = gpnats.NewPublisher(w.stream, gpnats.PublisherOptions{Gate: pipeline.IntakeCheck{Blocklist: w.pl.Blocklist()}, Now: clock})
	pub := w.pub
	var once sync.Once
	stop := func() {
		once.Do(func() {
			pub.Close()
			cancel()
			if err := <-done; err != nil {
				w.t.Errorf("worker: %v", err)
			}
		})
	}
	w.stop = stop
	w.t.Cleanup(stop)
}

// closeStore stops the worker and closes the file, so another connection
// may read it.
func (w *world) closeStore() {
	w.t.Helper()
	w.stop()
	if err := w.db.Close(); err != nil {
		w.t.Fatal(err)
	}
}

// send publishes posts through intake and waits until the worker stored them.
func (w *world) send(posts ...*geopulse.Post) {
	w.t.Helper()
	errs, err := w.pub.Ingest(w.ctx, posts)
	if err != nil {
		w.t.Fatal(err)
	}
	for i, err := range errs {
		if err != nil {
			w.t.Fatalf("post %s: %v", posts[i].SourceID, err)
		}
	}
	w.drain()
}

func (w *world) drain() {
	w.t.Helper()
	ctx, cancel := context.WithTimeout(w.ctx, time.Minute)
	defer cancel()
	if err := w.stream.WaitDrained(ctx); err != nil {
		w.t.Fatal(err)
	}
}

// fill stores Jane on two sources and Bob, puts a compliance event about
// Jane in the stream and a broken message of hers in the dead letters.
func (w *world) fill() {
	w.t.Helper()
	var posts []*geopulse.Post
	for _, p := range []person{janeInsta, janeX, bob} {
		posts = append(posts, p.allPosts()...)
	}
	w.send(posts...)
	// What the vision workers would have found in her first picture: a dog,
	// and her own handle on a sign (OCR reads whatever is written).
	first := janeInsta.post(0)
	if err := w.db.ReplaceLabels(w.ctx, geopulse.PostID(first.Source, first.SourceID), geopulse.OriginImage, []geopulse.Label{
		{Kind: geopulse.LabelObject, Name: "dog", Score: 0.8, Model: "nanodet-coco"},
		{Kind: geopulse.LabelText, Name: "@" + janeInsta.handle, Score: 0.9, Model: "pp-ocrv4"},
	}, now); err != nil {
		w.t.Fatal(err)
	}
	// An old geo scrub of hers: it removes nothing, and its message names
	// her account.
	errs, err := w.pub.Comply(w.ctx, []*geopulse.ComplianceEvent{{Kind: geopulse.ComplianceScrubGeo, Source: "insta",
		AuthorSourceID: janeInsta.sourceID, UpTo: time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)}})
	if err != nil || errs[0] != nil {
		w.t.Fatalf("comply: %v %v", errs, err)
	}
	// A message that bypassed intake and does not decode: the worker
	// dead-letters it.
	broken := canonical.AppendJSON(nil, janeInsta.post(0))
	broken = bytes.Replace(broken, []byte(`"lat":`), []byte(`"lat":999,"x":`), 1)
	js, err := jetstream.New(w.stream.Conn())
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := js.Publish(w.ctx, "geopulse.posts.insta", broken); err != nil {
		w.t.Fatal(err)
	}
	w.drain()
	dead, err := w.stream.DeadLetters(w.ctx, 0, 10)
	if err != nil || len(dead) != 1 {
		w.t.Fatalf("dead letters = %d, %v; want the broken message", len(dead), err)
	}
	// Her profile, and a refresh round's staged copy of it.
	if n, err := w.db.RefreshProfiles(w.ctx, now, 0, true); err != nil || n == 0 {
		w.t.Fatalf("profiles: %d, %v", n, err)
	}
}

// TestEraseEndToEnd ingests a person across two sources through the
// stream, erases both accounts, and then looks for her everywhere: every
// column of every table of the DuckDB file, every message of both
// streams, every file of the stream's directory. Only the suppression
// list and the compliance log may hold her keys. A post she sends again is
// refused.
//
// The DuckDB file's bytes are not scanned: DuckDB marks the blocks of
// deleted rows free without overwriting them (measured: her captions are
// still in the file after a checkpoint and a VACUUM), so a byte-level
// guarantee needs the file rewritten (see privacy.Subjects).
func TestEraseEndToEnd(t *testing.T) {
	w := newWorld(t)
	w.fill()
	jane := append(janeInsta.needles(), janeX.needles()...)
	janeIDs := append(janeInsta.ids(), janeX.ids()...)

	// The scans find her before: they would see her after.
	w.closeStore()
	before := scanDuckDB(t, w.path, jane, janeIDs)
	for _, want := range []string{"authors.card", "posts.doc", "post_places.author_id", "post_tags.post_id", "author_stats.author_id", "post_labels.post_id", "post_labels.name",
		"author_terms.author_id", "profile_stage.author_id"} {
		if !slices.ContainsFunc(before, func(h string) bool { return strings.HasPrefix(h, want+":") }) {
			t.Fatalf("before the erasure the scan does not find her in %s: %v", want, before)
		}
	}
	if hits := scanStreams(t, w.stream, jane); len(hits) == 0 {
		t.Fatal("before the erasure the stream scan finds nothing")
	}
	var captions []string
	for _, n := range jane {
		if strings.HasPrefix(n, "caption-") {
			captions = append(captions, n)
		}
	}
	if files := filesHolding(t, w.natsDir, captions); len(files) == 0 {
		t.Fatal("before the erasure no file of the stream holds her captions")
	}
	w.openStore()
	w.startWorker()
	// A second process's pipeline, whose blocklist learns of the erasure
	// only when it refreshes.
	other, err := pipeline.New(w.ctx, w.db, pipeline.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}

	subjects := &privacy.Subjects{Store: w.db, Stream: w.stream, Blocklist: w.pl.Blocklist(), Now: clock}
	tests := []struct {
		ref  geopulse.SubjectRef
		want geopulse.ErasureReceipt
	}{
		{
			ref: geopulse.SubjectRef{Source: "insta", Handle: "@JANE.DOE"},
			// In POSTS three posts, the scrub event and the broken message
			// (dead-lettered, and kept for the replay window); in VISION
			// the three posts' labelling jobs; its copy in the dead letters.
			want: geopulse.ErasureReceipt{AuthorsRemoved: 1, PostsRemoved: 3, StreamMessagesRemoved: 8, DeadLettersRemoved: 1},
		},
		{
			ref: geopulse.SubjectRef{Source: "x", SourceID: janeX.sourceID},
			// Two posts in POSTS, their two jobs in VISION.
			want: geopulse.ErasureReceipt{AuthorsRemoved: 1, PostsRemoved: 2, StreamMessagesRemoved: 4},
		},
	}
	for _, tt := range tests {
		rc, err := subjects.Erase(w.ctx, tt.ref)
		if err != nil {
			t.Fatalf("erase %+v: %v", tt.ref, err)
		}
		if rc.AuthorsRemoved != tt.want.AuthorsRemoved || rc.PostsRemoved != tt.want.PostsRemoved ||
			rc.StreamMessagesRemoved != tt.want.StreamMessagesRemoved || rc.DeadLettersRemoved != tt.want.DeadLettersRemoved ||
			!rc.Suppressed || rc.Action != geopulse.SubjectErasure || !rc.At.Equal(now) {
			t.Fatalf("receipt for %+v = %+v, want counts %+v", tt.ref, rc, tt.want)
		}
		// Keys, never what they hash.
		b, _ := json.Marshal(rc)
		if hits := contains(b, append(janeInsta.words(), janeX.words()...)); len(hits) > 0 {
			t.Fatalf("receipt %s names her: %v", b, hits)
		}
	}

	// Bob is untouched.
	if posts, err := w.db.SubjectPosts(w.ctx, geopulse.AuthorID("insta", bob.sourceID)); err != nil || len(posts) != 2 {
		t.Fatalf("bob's posts = %d, %v", len(posts), err)
	}

	t.Run("ResentPostsAreRefused", func(t *testing.T) {
		if err := other.Blocklist().Refresh(w.ctx); err != nil {
			t.Fatal(err)
		}
		newAccount := janeInsta.post(0)
		newAccount.SourceID, newAccount.Author.SourceID = "ig-new", "17841499999" // a new account, her handle
		cases := []struct {
			name   string
			ingest geopulse.Ingester
			post   *geopulse.Post
			reason string
		}{
			{"her insta post at intake", w.pub, janeInsta.post(1), geopulse.ReasonSuppressed},
			{"her insta post, this process's pipeline", w.pl, janeInsta.post(2), geopulse.ReasonSuppressed},
			{"her insta post, refreshed pipeline", other, janeInsta.post(0), geopulse.ReasonSuppressed},
			{"her handle on a new account", other, newAccount, geopulse.ReasonSuppressed},
			{"her x post", other, janeX.post(1), geopulse.ReasonSuppressed},
			{"bob's post", other, bob.post(1), ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				errs, err := c.ingest.Ingest(w.ctx, []*geopulse.Post{c.post})
				if err != nil {
					t.Fatal(err)
				}
				if got := geopulse.ErrorReason(errs[0]); got != c.reason {
					t.Fatalf("reason = %q (%v), want %q", got, errs[0], c.reason)
				}
			})
		}
		// A post of hers that reached the stream another way is dropped
		// by the worker's gate.
		js, err := jetstream.New(w.stream.Conn())
		if err != nil {
			t.Fatal(err)
		}
		if _, err := js.Publish(w.ctx, "geopulse.posts.insta", canonical.AppendJSON(nil, janeInsta.post(1))); err != nil {
			t.Fatal(err)
		}
		w.drain()
		for _, p := range []person{janeInsta, janeX} {
			if posts, err := w.db.SubjectPosts(w.ctx, geopulse.AuthorID(p.source, p.sourceID)); err != nil || len(posts) != 0 {
				t.Fatalf("%s posts stored after the erasure: %d, %v", p.source, len(posts), err)
			}
		}
		// That message is hers again: a second erasure overwrites it.
		rc, err := subjects.Erase(w.ctx, geopulse.SubjectRef{Source: "insta", SourceID: janeInsta.sourceID})
		if err != nil || rc.StreamMessagesRemoved != 1 || rc.PostsRemoved != 0 {
			t.Fatalf("second erasure = %+v, %v", rc, err)
		}
	})

	t.Run("NothingRemains", func(t *testing.T) {
		if hits := scanStreams(t, w.stream, jane); len(hits) > 0 {
			t.Errorf("the streams still hold her: %v", hits)
		}
		// The captions of her posts were in the stream's files; SecureDelete
		// overwrote them.
		if files := filesHolding(t, w.natsDir, captions); len(files) > 0 {
			t.Errorf("the stream's files still hold her captions: %v", files)
		}
		w.closeStore()
		hits := scanDuckDB(t, w.path, jane, janeIDs)
		// Her account keys are what keeps her out (suppressions) and the
		// keyed record of the removal (compliance_log); nothing else.
		var unexpected []string
		allowed := map[string]bool{}
		for _, h := range hits {
			col, _, _ := strings.Cut(h, ":")
			if col == "suppressions.key" || col == "compliance_log.author_id" {
				allowed[col] = true
				continue
			}
			unexpected = append(unexpected, h)
		}
		if len(unexpected) > 0 {
			t.Errorf("the store still holds her: %v", unexpected)
		}
		if !allowed["suppressions.key"] {
			t.Errorf("her account keys are not suppressed: %v", hits)
		}
	})
}

// TestAccessReport compares a person's access report with its golden file.
func TestAccessReport(t *testing.T) {
	w := newWorld(t)
	w.fill()
	if err := w.db.Suppress(w.ctx, geopulse.HandleKey("insta", "jane.doe"), geopulse.SuppressProtected); err != nil {
		t.Fatal(err)
	}
	subjects := &privacy.Subjects{Store: w.db, Now: clock}
	rep, err := subjects.Access(w.ctx, geopulse.SubjectRef{Source: "insta", Handle: "jane.doe"})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Authors) != 1 || len(rep.Posts) != 3 || len(rep.Authors[0].Stats) != 3 {
		t.Fatalf("report has %d authors, %d posts", len(rep.Authors), len(rep.Posts))
	}
	for _, p := range rep.Posts {
		if len(p.PlaceIDs) != 2 || p.Source != "insta" || p.ObservedAt.IsZero() || len(p.Derived.Hashtags) == 0 || p.Derived.Cell == 0 {
			t.Fatalf("post %+v lacks where it came from or what was derived", p)
		}
	}
	got, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "access_jane.golden.json", append(got, '\n'))

	// Unknown people get an empty report; bad references EINVALID.
	empty, err := subjects.Access(w.ctx, geopulse.SubjectRef{Source: "insta", SourceID: "nobody"})
	if err != nil || len(empty.Authors) != 0 || len(empty.Posts) != 0 || empty.Suppressed == nil {
		t.Fatalf("report of nobody = %+v, %v", empty, err)
	}
	if _, err := subjects.Access(w.ctx, geopulse.SubjectRef{Handle: "jane"}); geopulse.ErrorCode(err) != geopulse.EINVALID {
		t.Fatalf("no source: %v", err)
	}
}

// TestObjectAndUnknown covers objection (no stream purge) and requests
// about people of whom nothing is stored.
func TestObjectAndUnknown(t *testing.T) {
	w := newWorld(t)
	w.fill()
	subjects := &privacy.Subjects{Store: w.db, Stream: w.stream, Blocklist: w.pl.Blocklist(), Now: clock}
	tests := []struct {
		name   string
		do     func(context.Context, geopulse.SubjectRef) (*geopulse.ErasureReceipt, error)
		ref    geopulse.SubjectRef
		action string
		posts  int64 // removed from the store
		stream int   // removed from POSTS and VISION
		dead   int
		keys   int // account keys in the receipt
	}{
		{"objection keeps the stream", subjects.Object, geopulse.SubjectRef{Source: "insta", Handle: "Jane.Doe"}, geopulse.SubjectObjection, 3, 0, 0, 1},
		{"erasure after the objection purges it", subjects.Erase, geopulse.SubjectRef{Source: "insta", Handle: "Jane.Doe"}, geopulse.SubjectErasure, 0, 8, 1, 0},
		{"unknown handle", subjects.Erase, geopulse.SubjectRef{Source: "insta", Handle: "@ghost"}, geopulse.SubjectErasure, 0, 0, 0, 0},
		{"unknown account", subjects.Object, geopulse.SubjectRef{Source: "x", SourceID: "404"}, geopulse.SubjectObjection, 0, 0, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rc, err := tt.do(w.ctx, tt.ref)
			if err != nil {
				t.Fatal(err)
			}
			if rc.Action != tt.action || rc.PostsRemoved != tt.posts || rc.StreamMessagesRemoved != tt.stream ||
				rc.DeadLettersRemoved != tt.dead || len(rc.Ref.AccountKeys) != tt.keys || !rc.Suppressed {
				t.Fatalf("receipt = %+v", rc)
			}
			reasons, err := w.db.SuppressionReasons(w.ctx, tt.ref.Key())
			if err != nil || !slices.Contains(reasons, geopulse.SuppressObjection) {
				t.Fatalf("reference key reasons = %v, %v", reasons, err)
			}
		})
	}
	// Suppressed handles and accounts are refused, from the store's list
	// as from the live one.
	fresh, err := pipeline.New(w.ctx, w.db, pipeline.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	ghost := bob.post(0)
	ghost.SourceID, ghost.Author.SourceID, ghost.Author.Handle = "ig-ghost", "1", "GHOST"
	for _, ing := range []geopulse.Ingester{w.pl, fresh} {
		errs, err := ing.Ingest(w.ctx, []*geopulse.Post{ghost, janeInsta.post(0)})
		if err != nil {
			t.Fatal(err)
		}
		for i, e := range errs {
			if geopulse.ErrorReason(e) != geopulse.ReasonSuppressed {
				t.Fatalf("post %d: %v, want suppressed", i, e)
			}
		}
	}
	if _, err := subjects.Erase(w.ctx, geopulse.SubjectRef{Source: "insta"}); geopulse.ErrorCode(err) != geopulse.EINVALID {
		t.Fatalf("empty reference: %v", err)
	}
}

// scanDuckDB opens the file read-only and looks for the needles (case
// insensitive) in every column of every table, cast to text, and for ids
// in every integer column. It returns "table.column: needle" hits.
func scanDuckDB(t *testing.T, path string, needles []string, ids []int64) []string {
	t.Helper()
	db, err := sql.Open("duckdb", path+"?access_mode=READ_ONLY")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(`SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`)
	if err != nil {
		t.Fatal(err)
	}
	type column struct{ table, name, typ string }
	var cols []column
	for rows.Next() {
		var c column
		if err := rows.Scan(&c.table, &c.name, &c.typ); err != nil {
			t.Fatal(err)
		}
		cols = append(cols, c)
	}
	rows.Close()
	tables := map[string]bool{}
	for _, c := range cols {
		tables[c.table] = true
	}
	for _, want := range []string{"authors", "author_stats", "posts", "post_places", "post_tags", "post_labels", "suppressions", "tombstones", "compliance_log"} {
		if !tables[want] {
			t.Fatalf("the scan misses table %s: %v", want, tables)
		}
	}
	var hits []string
	for _, c := range cols {
		q := fmt.Sprintf(`SELECT count(*) FROM %q WHERE contains(lower(CAST(%q AS VARCHAR)), ?)`, c.table, c.name)
		for _, n := range needles {
			var k int
			if err := db.QueryRow(q, strings.ToLower(n)).Scan(&k); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if k > 0 {
				hits = append(hits, c.table+"."+c.name+": "+n)
			}
		}
		if !slices.Contains([]string{"BIGINT", "INTEGER", "HUGEINT", "UBIGINT"}, c.typ) {
			continue
		}
		q = fmt.Sprintf(`SELECT count(*) FROM %q WHERE %q = ?`, c.table, c.name)
		for _, id := range ids {
			var k int
			if err := db.QueryRow(q, id).Scan(&k); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			if k > 0 {
				hits = append(hits, c.table+"."+c.name+": "+strconv.FormatInt(id, 10))
			}
		}
	}
	return hits
}

// scanStreams returns "STREAM#seq: needle" for every message of POSTS and
// DEADLETTERS whose body or headers hold a needle (case insensitive).
func scanStreams(t *testing.T, s *gpnats.Stream, needles []string) []string {
	t.Helper()
	ctx := context.Background()
	js, err := jetstream.New(s.Conn())
	if err != nil {
		t.Fatal(err)
	}
	var hits []string
	for _, name := range []string{gpnats.StreamPosts, gpnats.StreamVision, gpnats.StreamDeadLetters} {
		str, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		for seq := uint64(1); ; {
			raw, err := str.GetMsg(ctx, seq, jetstream.WithGetMsgSubject(">"))
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				break
			} else if err != nil {
				t.Fatal(err)
			}
			text := append([]byte(nil), raw.Data...)
			for k, vs := range raw.Header {
				text = append(text, k...)
				for _, v := range vs {
					text = append(text, v...)
				}
			}
			for _, h := range contains(text, needles) {
				hits = append(hits, fmt.Sprintf("%s#%d: %s", name, raw.Sequence, h))
			}
			seq = raw.Sequence + 1
		}
	}
	return hits
}

// contains returns the needles in b, case insensitive.
func contains(b []byte, needles []string) []string {
	var out []string
	lb := bytes.ToLower(b)
	for _, n := range needles {
		if bytes.Contains(lb, []byte(strings.ToLower(n))) {
			out = append(out, n)
		}
	}
	return out
}

// filesHolding lists the files under dir that contain any needle.
func filesHolding(t *testing.T, dir string, needles []string) []string {
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
		if len(contains(b, needles)) > 0 {
			out = append(out, path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// golden compares got with testdata/name, or rewrites it with -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file:\n%s", name, got)
	}
}
