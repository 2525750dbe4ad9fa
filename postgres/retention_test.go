package postgres_test

import (
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// TestRetentionMonths checks what only this store does: whole months past
// every window are dropped (counted like rows), a month that the window
// cuts loses rows only, and a policy without a catch-all rule never drops a
// month.
func TestRetentionMonths(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	const day = 24 * time.Hour
	// t0 - 730 d is 2023-06-03: March to May 2023 end before it.
	march, april := time.Date(2023, 3, 10, 0, 0, 0, 0, time.UTC), time.Date(2023, 4, 10, 0, 0, 0, 0, time.UTC)
	june1, june20 := time.Date(2023, 6, 1, 0, 0, 0, 0, time.UTC), time.Date(2023, 6, 20, 0, 0, 0, 0, time.UTC)
	catchAll := geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Keep: 730 * day}}}
	tests := []struct {
		name    string
		policy  geopulse.RetentionPolicy
		months  int
		posts   int64
		feed    []string
		monthsN int // posts partitions left
	}{
		{"catch-all drops whole months", catchAll, 2, 3, []string{"jun20"}, 1},
		{"no catch-all deletes rows only", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "insta", Keep: 730 * day}}}, 0, 3, []string{"jun20"}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, d)
			f.upsert(t, f.db, post("mar", march, f.place.ID), post("apr", april, f.place.ID),
				post("jun1", june1, f.place.ID), post("jun20", june20, f.place.ID))
			for _, dry := range []bool{true, false} {
				rep, err := f.db.ApplyRetention(f.ctx, tt.policy, t0, dry)
				if err != nil {
					t.Fatal(err)
				}
				if rep.Months != tt.months || rep.Posts != tt.posts || rep.Matches != tt.posts || len(rep.Counts) != 1 || !rep.Counts[0].Oldest.Equal(march) {
					t.Fatalf("dry run %v: report = %+v, want %d months, %d posts and matches, oldest %v", dry, rep, tt.months, tt.posts, march)
				}
			}
			if g := f.feed(t, f.db); !slices.Equal(g, tt.feed) {
				t.Fatalf("feed = %v, want %v", g, tt.feed)
			}
			if n := f.count(t, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'posts'::regclass`); n != tt.monthsN {
				t.Fatalf("posts has %d partitions, want %d", n, tt.monthsN)
			}
			for _, table := range []string{"post_keys", "post_places", "post_tags"} {
				if n := f.count(t, `SELECT count(*) FROM `+table); n != 1 {
					t.Fatalf("%s has %d rows, want 1 (jun20's)", table, n)
				}
			}
			// A replay brings a post of a dropped month back; the next run
			// removes it again.
			f.upsert(t, f.db, post("mar", march, f.place.ID))
			rep, err := f.db.ApplyRetention(f.ctx, tt.policy, t0, false)
			if err != nil || rep.Posts != 1 {
				t.Fatalf("after replay: %+v, %v; want 1 post", rep, err)
			}
		})
	}
}

// TestRetentionChunks removes more posts than one transaction handles, so
// that the walk from chunk to chunk is exercised, dry and real.
func TestRetentionChunks(t *testing.T) {
	t.Parallel()
	d := newTestDatabase(t)
	f := newFixture(t, d)
	const n = 4100 // two full chunks and a partial one
	start := time.Date(2023, 5, 1, 0, 0, 0, 0, time.UTC)
	var posts []*geopulse.Post
	for i := range n {
		// Pairs share an instant: the walk's key is (taken_at, id).
		posts = append(posts, post("p"+strconv.Itoa(i), start.Add(time.Duration(i/2)*time.Second), f.place.ID))
	}
	f.upsert(t, f.db, posts...)
	keep := geopulse.RetentionRule{Source: "insta", Keep: 365 * 24 * time.Hour} // no catch-all: rows only
	// The workspace's matches go first; the system policy then deletes
	// posts that no place matches any more.
	for _, tt := range []struct {
		policy  geopulse.RetentionPolicy
		matches int64
	}{
		{geopulse.RetentionPolicy{WorkspaceID: f.ws.ID, Rules: []geopulse.RetentionRule{keep}}, n},
		{geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{keep}}, 0},
	} {
		for _, dry := range []bool{true, false} {
			rep, err := f.db.ApplyRetention(f.ctx, tt.policy, t0, dry)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Posts != n || rep.Matches != tt.matches || len(rep.Counts) != 1 || !rep.Counts[0].Oldest.Equal(start) {
				t.Fatalf("workspace %d, dry run %v: report = %+v, want %d posts, %d matches", tt.policy.WorkspaceID, dry, rep, n, tt.matches)
			}
		}
	}
	for _, table := range []string{"posts", "post_keys", "post_places", "post_tags"} {
		if c := f.count(t, `SELECT count(*) FROM `+table); c != 0 {
			t.Fatalf("%s has %d rows, want 0", table, c)
		}
	}
}
