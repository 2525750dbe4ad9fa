package duckdb

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// TestLabelRowsLeaveWithPosts scans post_labels itself: the contract
// suite sees labels only through reads, which could miss rows that no
// read reaches (a removed post's rows that only a re-used id would show).
func TestLabelRowsLeaveWithPosts(t *testing.T) {
	ctx := context.Background()
	t0 := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	db, err := Open(ctx, filepath.Join(t.TempDir(), "labels.duckdb"), Options{Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws := &geopulse.Workspace{Name: "w"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	pl := &geopulse.Place{WorkspaceID: ws.ID, Name: "v", Center: &geopulse.LatLon{Lat: 1, Lon: 1}, RadiusM: 100,
		BBox: geopulse.BBox{MinLat: 0.99, MinLon: 0.99, MaxLat: 1.01, MaxLon: 1.01}}
	if err := db.CreatePlace(ctx, pl); err != nil {
		t.Fatal(err)
	}
	post := func(id, author string, kind geopulse.Kind, at time.Time) *geopulse.Post {
		p := &geopulse.Post{Source: "x", SourceID: id, Kind: kind, TakenAt: at, Lat: 1, Lon: 1,
			Author: geopulse.Author{SourceID: author}, PlaceIDs: []int64{pl.ID},
			Labels: []geopulse.Label{{Kind: geopulse.LabelInterest, Name: "pets", Score: 1}}}
		if kind == geopulse.KindStory {
			exp := at.Add(time.Hour)
			p.ExpiresAt = &exp
		}
		return p
	}
	posts := []*geopulse.Post{
		post("story", "ann", geopulse.KindStory, t0), post("old", "bob", geopulse.KindPhoto, t0.AddDate(-2, 0, 0)),
		post("ann", "ann", geopulse.KindPhoto, t0), post("bob", "bob", geopulse.KindPhoto, t0),
	}
	if errs, err := db.UpsertPosts(ctx, posts); err != nil || errs[0] != nil {
		t.Fatalf("upsert: %v, %v", errs, err)
	}
	for _, p := range posts {
		if err := db.ReplaceLabels(ctx, p.ID, geopulse.OriginImage, []geopulse.Label{{Kind: geopulse.LabelObject, Name: "dog"}}, t0); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(p *geopulse.Post) (n int) {
		t.Helper()
		if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM post_labels WHERE post_id = ?`, p.ID).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	for _, p := range posts {
		if n := rows(p); n != 2 {
			t.Fatalf("post %s has %d label rows, want 2", p.SourceID, n)
		}
	}
	steps := []struct {
		name string
		do   func() error
		gone *geopulse.Post
	}{
		{"expiry", func() error { _, err := db.ExpireStories(ctx, t0.Add(2*time.Hour)); return err }, posts[0]},
		{"retention", func() error {
			_, err := db.ApplyRetention(ctx, geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "*", Kind: "*", Keep: 365 * 24 * time.Hour}}}, t0, false)
			return err
		}, posts[1]},
		{"erasure", func() error {
			_, err := db.ApplyCompliance(ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeleteAuthor, Source: "x", AuthorSourceID: "ann"})
			return err
		}, posts[2]},
		{"delete", func() error {
			_, err := db.ApplyCompliance(ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: "x", SourceID: "bob"})
			return err
		}, posts[3]},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if n := rows(s.gone); n != 0 {
			t.Fatalf("after %s, post %s keeps %d label rows", s.name, s.gone.SourceID, n)
		}
	}
	var n int
	if err := db.sql.QueryRowContext(ctx, `SELECT count(*) FROM post_labels`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("post_labels holds %d rows (%v), want none", n, err)
	}
}
