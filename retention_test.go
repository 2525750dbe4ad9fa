package geopulse_test

import (
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

const day = 24 * time.Hour

func TestRetentionPolicyValidate(t *testing.T) {
	tests := []struct {
		name string
		p    geopulse.RetentionPolicy
		ok   bool
	}{
		{"empty", geopulse.RetentionPolicy{}, true},
		{"catch-all", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "*", Kind: "*", Keep: day}}}, true},
		{"every level", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{
			{Keep: day}, {Kind: geopulse.KindStory, Keep: day}, {Source: "x", Keep: day}, {Source: "x", Kind: geopulse.KindStory, Keep: day},
		}}, true},
		{"workspace", geopulse.RetentionPolicy{WorkspaceID: 3, Rules: []geopulse.RetentionRule{{Keep: day}}}, true},
		{"system unmatched", geopulse.RetentionPolicy{Unmatched: day}, true},
		{"zero keep", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "x"}}}, false},
		{"negative keep", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Keep: -day}}}, false},
		{"unknown kind", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Kind: "gif", Keep: day}}}, false},
		{"duplicate", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "x", Keep: day}, {Source: "x", Kind: "*", Keep: 2 * day}}}, false},
		{"duplicate any", geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Keep: day}, {Source: "*", Keep: 2 * day}}}, false},
		{"workspace unmatched", geopulse.RetentionPolicy{WorkspaceID: 3, Unmatched: day}, false},
		{"negative unmatched", geopulse.RetentionPolicy{Unmatched: -day}, false},
		{"negative workspace", geopulse.RetentionPolicy{WorkspaceID: -1}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.p.Validate()
			if tt.ok && err != nil {
				t.Fatalf("Validate = %v, want nil", err)
			}
			if !tt.ok && geopulse.ErrorCode(err) != geopulse.EINVALID {
				t.Fatalf("Validate = %v, want EINVALID", err)
			}
		})
	}
}

func TestRetentionPolicyRule(t *testing.T) {
	p := geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{
		{Source: "*", Kind: "*", Keep: 1 * day},
		{Kind: geopulse.KindStory, Keep: 2 * day},
		{Source: "x", Keep: 3 * day},
		{Source: "x", Kind: geopulse.KindPhoto, Keep: 4 * day},
	}}
	tests := []struct {
		source string
		kind   geopulse.Kind
		keep   time.Duration
	}{
		{"x", geopulse.KindPhoto, 4 * day},     // source and kind
		{"x", geopulse.KindStory, 3 * day},     // source beats kind
		{"x", geopulse.KindText, 3 * day},      // source
		{"insta", geopulse.KindStory, 2 * day}, // kind
		{"insta", geopulse.KindPhoto, 1 * day}, // any
	}
	for _, tt := range tests {
		r, ok := p.Rule(tt.source, tt.kind)
		if !ok || r.Keep != tt.keep {
			t.Errorf("Rule(%s, %s) = %+v, %v; want keep %v", tt.source, tt.kind, r, ok, tt.keep)
		}
	}
	if !p.CoversAll() {
		t.Error("CoversAll = false with a catch-all rule")
	}
	narrow := geopulse.RetentionPolicy{Rules: []geopulse.RetentionRule{{Source: "x", Keep: day}, {Kind: geopulse.KindStory, Keep: day}}}
	if narrow.CoversAll() {
		t.Error("CoversAll = true without a catch-all rule")
	}
	if r, ok := narrow.Rule("insta", geopulse.KindPhoto); ok {
		t.Errorf("Rule(insta, photo) = %+v; want none: uncovered posts are kept", r)
	}
}

func TestRetentionReportAdd(t *testing.T) {
	t0 := time.Date(2025, 6, 2, 12, 0, 0, 0, time.UTC)
	var r geopulse.RetentionReport
	r.Add("x", geopulse.KindText, 1, 2, t0)
	r.Add("insta", geopulse.KindStory, 2, 0, t0)
	r.Add("x", geopulse.KindPhoto, 1, 1, t0.Add(-day))
	r.Add("x", geopulse.KindText, 3, 3, t0.Add(-2*day))
	r.Add("x", geopulse.KindReel, 0, 0, t0) // nothing: no entry
	want := []geopulse.RetentionCount{
		{Source: "insta", Kind: geopulse.KindStory, Posts: 2, Oldest: t0},
		{Source: "x", Kind: geopulse.KindPhoto, Posts: 1, Matches: 1, Oldest: t0.Add(-day)},
		{Source: "x", Kind: geopulse.KindText, Posts: 4, Matches: 5, Oldest: t0.Add(-2 * day)},
	}
	if len(r.Counts) != len(want) {
		t.Fatalf("counts = %+v, want %+v", r.Counts, want)
	}
	for i := range want {
		if got := r.Counts[i]; got.Source != want[i].Source || got.Kind != want[i].Kind || got.Posts != want[i].Posts ||
			got.Matches != want[i].Matches || !got.Oldest.Equal(want[i].Oldest) {
			t.Errorf("counts[%d] = %+v, want %+v", i, got, want[i])
		}
	}
	if r.Posts != 7 || r.Matches != 6 {
		t.Errorf("totals = %d posts, %d matches; want 7, 6", r.Posts, r.Matches)
	}
}
