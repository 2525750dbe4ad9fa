package privacy_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"testing"
	"testing/synctest"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	"github.com/geopulse/geopulse/privacy"
)

// retentionWorld is a real store with workspaces a and b, each with a venue
// at (1, 1), and helpers to see what each workspace sees.
type retentionWorld struct {
	t    *testing.T
	db   *duckdb.DB
	a, b *geopulse.Workspace
}

func newRetentionWorld(t *testing.T) *retentionWorld {
	db, err := duckdb.Open(t.Context(), filepath.Join(t.TempDir(), "r.duckdb"), duckdb.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &retentionWorld{t: t, db: db}
}

// setUp creates the workspaces and a photo at (1, 1) taken at the bubble's
// now; call it inside the bubble.
func (w *retentionWorld) setUp() {
	t, ctx := w.t, w.t.Context()
	var places []int64
	for _, name := range []string{"a", "b"} {
		ws := &geopulse.Workspace{Name: name}
		if err := w.db.CreateWorkspace(ctx, ws); err != nil {
			t.Fatal(err)
		}
		p := &geopulse.Place{WorkspaceID: ws.ID, Name: "p", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 100,
			BBox: geopulse.BBox{MinLat: 0.9, MinLon: 0.9, MaxLat: 1.1, MaxLon: 1.1}}
		if err := w.db.CreatePlace(ctx, p); err != nil {
			t.Fatal(err)
		}
		places = append(places, p.ID)
		if name == "a" {
			w.a = ws
		} else {
			w.b = ws
		}
	}
	now := time.Now().UTC()
	post := &geopulse.Post{
		ID: geopulse.PostID("t", "p1"), Source: "t", SourceID: "p1", Kind: geopulse.KindPhoto,
		Author:  geopulse.Author{ID: geopulse.AuthorID("t", "a"), Source: "t", SourceID: "a", Handle: "a"},
		TakenAt: now, ObservedAt: now, Lat: 1, Lon: 1, Caption: "hello", PlaceIDs: places,
	}
	if _, err := w.db.UpsertPosts(ctx, []*geopulse.Post{post}); err != nil {
		t.Fatal(err)
	}
}

// sees reports whether ws sees the post.
func (w *retentionWorld) sees(ws *geopulse.Workspace) bool {
	w.t.Helper()
	_, err := w.db.FindPostByID(w.t.Context(), ws.ID, geopulse.PostID("t", "p1"))
	if err != nil && geopulse.ErrorCode(err) != geopulse.ENOTFOUND {
		w.t.Fatal(err)
	}
	return err == nil
}

// TestRetentionRuns runs the sweeper on a fake clock against a real store:
// workspace a stops seeing the post within one interval of its 24 h window,
// b keeps it until the system's 72 h window deletes it.
func TestRetentionRuns(t *testing.T) {
	w := newRetentionWorld(t)
	synctest.Test(t, func(t *testing.T) {
		w.setUp()
		r := &privacy.Retention{Store: w.db, Interval: time.Hour, Policies: []geopulse.RetentionPolicy{
			{Rules: []geopulse.RetentionRule{{Keep: 72 * time.Hour}}}, // system: applied last whatever the order
			{WorkspaceID: w.a.ID, Rules: []geopulse.RetentionRule{{Keep: 24 * time.Hour}}},
		}}
		go r.Run(t.Context())
		steps := []struct {
			sleep time.Duration
			a, b  bool
		}{
			{23 * time.Hour, true, true},
			{2 * time.Hour, false, true},  // 25 h
			{46 * time.Hour, false, true}, // 71 h
			{2 * time.Hour, false, false}, // 73 h
		}
		for _, s := range steps {
			time.Sleep(s.sleep)
			synctest.Wait()
			if a, b := w.sees(w.a), w.sees(w.b); a != s.a || b != s.b {
				t.Fatalf("after %v: a sees %v, b sees %v; want %v, %v", s.sleep, a, b, s.a, s.b)
			}
		}
	})
}

// TestRetentionSweep checks one sweep's reports and logs: a dry run
// removes nothing and says what it would; a failing policy is logged and
// the others still apply.
func TestRetentionSweep(t *testing.T) {
	tests := []struct {
		name     string
		dryRun   bool
		unknown  bool // add a policy for a workspace that does not exist
		reports  int
		a, b     bool // who still sees the post
		wantLogs []string
	}{
		{"dry run", true, false, 2, true, true, []string{"retention removed", "retention applied"}},
		{"real", false, false, 2, false, false, []string{"retention removed", "retention applied"}},
		{"a failing policy", false, true, 2, false, false, []string{"retention failed", "retention removed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newRetentionWorld(t)
			synctest.Test(t, func(t *testing.T) {
				w.setUp()
				var logs bytes.Buffer
				r := &privacy.Retention{Store: w.db, DryRun: tt.dryRun,
					Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
					Policies: []geopulse.RetentionPolicy{
						{WorkspaceID: w.a.ID, Rules: []geopulse.RetentionRule{{Keep: time.Hour}}},
						{Rules: []geopulse.RetentionRule{{Source: "t", Keep: 2 * time.Hour}}},
					}}
				if tt.unknown {
					r.Policies = append(r.Policies, geopulse.RetentionPolicy{WorkspaceID: w.b.ID + 100, Rules: []geopulse.RetentionRule{{Keep: time.Hour}}})
				}
				time.Sleep(3 * time.Hour)
				reports := r.Sweep(t.Context())
				if len(reports) != tt.reports {
					t.Fatalf("%d reports, want %d: %+v", len(reports), tt.reports, reports)
				}
				// Workspace first (one match), then the system (the post,
				// with b's match left).
				if ws, sys := reports[0], reports[1]; ws.WorkspaceID != w.a.ID || ws.Posts != 1 || ws.Matches != 1 ||
					sys.WorkspaceID != 0 || sys.Posts != 1 || sys.DryRun != tt.dryRun {
					t.Fatalf("reports = %+v", reports)
				}
				if a, b := w.sees(w.a), w.sees(w.b); a != tt.a || b != tt.b {
					t.Fatalf("a sees %v, b sees %v; want %v, %v", a, b, tt.a, tt.b)
				}
				msgs := map[string]bool{}
				dec := json.NewDecoder(&logs)
				for dec.More() {
					var rec map[string]any
					if err := dec.Decode(&rec); err != nil {
						t.Fatal(err)
					}
					msgs[rec["msg"].(string)] = true
					if rec["msg"] == "retention removed" && (rec["source"] != "t" || rec["kind"] != "photo" || rec["posts"] != 1.0 || rec["dry_run"] != tt.dryRun) {
						t.Fatalf("log record = %v", rec)
					}
				}
				for _, m := range tt.wantLogs {
					if !msgs[m] {
						t.Fatalf("no %q in the logs:\n%s", m, logs.String())
					}
				}
			})
		})
	}
}
