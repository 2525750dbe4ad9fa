package postgres_test

import (
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// TestLabelRowsLeaveWithPosts scans post_labels itself: the contract
// suite sees labels only through reads, which could miss rows that no
// read reaches. Dropping a month drops its labels partition too.
func TestLabelRowsLeaveWithPosts(t *testing.T) {
	t.Parallel()
	f := newFixture(t, newTestDatabase(t))
	mk := func(id, author string, kind geopulse.Kind, at time.Time) *geopulse.Post {
		p := post(id, at, f.place.ID)
		p.Kind, p.Author = kind, geopulse.Author{SourceID: author}
		p.Labels = []geopulse.Label{{Kind: geopulse.LabelInterest, Name: "pets", Score: 1}}
		if kind == geopulse.KindStory {
			exp := at.Add(time.Hour)
			p.ExpiresAt = &exp
		}
		return p
	}
	posts := []*geopulse.Post{
		mk("story", "ann", geopulse.KindStory, t0), mk("old", "bob", geopulse.KindPhoto, t0.AddDate(-2, 0, 0)),
		mk("ann", "ann", geopulse.KindPhoto, t0), mk("bob", "bob", geopulse.KindPhoto, t0),
		mk("month", "bob", geopulse.KindPhoto, t0.AddDate(0, -3, 0)),
	}
	f.upsert(t, f.db, posts...)
	for _, p := range posts {
		if err := f.db.ReplaceLabels(f.ctx, p.ID, geopulse.OriginImage, []geopulse.Label{{Kind: geopulse.LabelObject, Name: "dog"}}, t0); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(p *geopulse.Post) int {
		return f.count(t, `SELECT count(*) FROM post_labels WHERE post_id = $1`, p.ID)
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
		{"expiry", func() error { _, err := f.db.ExpireStories(f.ctx, t0.Add(2*time.Hour)); return err }, posts[0]},
		{"retention", func() error {
			_, err := f.db.ApplyRetention(f.ctx, geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "*", Kind: "*", Keep: 365 * 24 * time.Hour}}}, t0, false)
			return err
		}, posts[1]},
		{"erasure", func() error {
			_, err := f.db.ApplyCompliance(f.ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeleteAuthor, Source: "insta", AuthorSourceID: "ann"})
			return err
		}, posts[2]},
		{"delete", func() error {
			_, err := f.db.ApplyCompliance(f.ctx, geopulse.ComplianceEvent{Kind: geopulse.ComplianceDeletePost, Source: "insta", SourceID: "bob"})
			return err
		}, posts[3]},
		{"month", func() error { _, err := f.db.DropMonthsBefore(f.ctx, t0.AddDate(0, -1, 0)); return err }, posts[4]},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if n := rows(s.gone); n != 0 {
			t.Fatalf("after %s, post %s keeps %d label rows", s.name, s.gone.SourceID, n)
		}
	}
	if n := f.count(t, `SELECT count(*) FROM post_labels`); n != 0 {
		t.Fatalf("post_labels holds %d rows, want none", n)
	}
}
