package geopulse

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// LabelKind says what a label names.
type LabelKind string

// Label kinds.
const (
	LabelObject   LabelKind = "object"   // a detector or classifier class: "dog", "bicycle"
	LabelText     LabelKind = "text"     // words read in a picture (OCR), lower-cased
	LabelBrand    LabelKind = "brand"    // a brand from the name-suggestion index: "starbucks"
	LabelInterest LabelKind = "interest" // an interest of the taxonomy: "pets"
)

// LabelKinds lists every kind, for validation and documentation.
var LabelKinds = []LabelKind{LabelObject, LabelText, LabelBrand, LabelInterest}

// LabelOrigin says which part of a post a label was read from. Each origin
// has one writer: the pipeline owns OriginText, the vision workers own
// OriginImage, so each replaces its own labels without touching the other's.
type LabelOrigin string

// Label origins.
const (
	OriginText  LabelOrigin = "text"  // caption, hashtags, place name and category
	OriginImage LabelOrigin = "image" // the post's media
)

// Label is one thing a post shows or says, with what produced it. Labels never
// describe a person: no faces, no identities (DESIGN.md rule 4).
type Label struct {
	Kind    LabelKind
	Name    string // lower-case
	Score   float32
	Origin  LabelOrigin
	Model   string // what produced it: "nanodet-coco", "pp-ocrv4", "nsi", "interests"
	Version string // the model's version, so a replay with a better model is traceable
}

// LabelStore keeps the labels that arrive after the post (from its pictures).
type LabelStore interface {
	// ReplaceLabels replaces the labels of one origin of a stored post with
	// labels (none: removes them) and records at as when it was labelled.
	// ENOTFOUND when the post is not stored (not yet, expired, or erased):
	// a label is never kept for a post the store does not hold.
	ReplaceLabels(ctx context.Context, postID int64, origin LabelOrigin, labels []Label, at time.Time) error
}

// MergeLabels adds ls to dst, keeping one label per kind and name: the one
// with the best score.
func MergeLabels(dst, ls []Label) []Label {
	for _, l := range ls {
		i := slices.IndexFunc(dst, func(d Label) bool { return d.Kind == l.Kind && d.Name == l.Name })
		if i < 0 {
			dst = append(dst, l)
		} else if l.Score > dst[i].Score {
			dst[i] = l
		}
	}
	return dst
}

// TextLabels returns the labels of OriginText (or of no origin) among ls,
// normalised as NormalizeLabels does: what a store keeps of the labels a
// post arrives with (image labels arrive through ReplaceLabels only).
func TextLabels(ls []Label) ([]Label, error) {
	var text []Label
	for _, l := range ls {
		if l.Origin == "" || l.Origin == OriginText {
			text = append(text, l)
		}
	}
	return NormalizeLabels(text, OriginText)
}

// NormalizeLabels validates labels and returns them as stores keep them:
// origin set, names trimmed and lower-cased, one label per (kind, name)
// (the highest score wins), sorted by kind and name, so that a post reads
// back the same from every store. EINVALID (ReasonInvalidField) for an
// unknown kind, an empty name, a score that is not finite, or text that is
// not valid UTF-8 or holds control characters (PostgreSQL text cannot hold
// NUL), or for an origin other than OriginText and OriginImage.
func NormalizeLabels(ls []Label, origin LabelOrigin) ([]Label, error) {
	if origin != OriginText && origin != OriginImage {
		return nil, Errorf(EINVALID, "Unknown label origin %q.", origin)
	}
	if len(ls) == 0 {
		return nil, nil
	}
	out := make([]Label, 0, len(ls))
	for _, l := range ls {
		l.Origin = origin
		// Checked before lower-casing, which would turn invalid UTF-8
		// into U+FFFD silently.
		clean := cleanLabelText(l.Name) && cleanLabelText(l.Model) && cleanLabelText(l.Version)
		l.Name = strings.ToLower(strings.TrimSpace(l.Name))
		switch {
		case !slices.Contains(LabelKinds, l.Kind):
			return nil, Reject(ReasonInvalidField, "Unknown label kind %q.", l.Kind)
		case l.Name == "":
			return nil, Reject(ReasonInvalidField, "A label needs a name.")
		case math.IsNaN(float64(l.Score)) || math.IsInf(float64(l.Score), 0):
			return nil, Reject(ReasonInvalidField, "Label score must be a finite number.")
		case !clean:
			return nil, Reject(ReasonInvalidField, "Label text must be valid UTF-8 without control characters.")
		}
		out = append(out, l)
	}
	slices.SortStableFunc(out, func(a, b Label) int {
		if c := cmp.Compare(a.Kind, b.Kind); c != 0 {
			return c
		}
		if c := cmp.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return cmp.Compare(b.Score, a.Score)
	})
	return slices.CompactFunc(out, func(a, b Label) bool { return a.Kind == b.Kind && a.Name == b.Name }), nil
}

func cleanLabelText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return false
		}
	}
	return true
}

// RequiredLabels returns the labels a feed filter requires (Label: an
// object, Brand, Interest), kind and name only, named as stores keep them.
func (f PostFilter) RequiredLabels() []Label {
	var out []Label
	for _, l := range []Label{{Kind: LabelObject, Name: f.Label}, {Kind: LabelBrand, Name: f.Brand}, {Kind: LabelInterest, Name: f.Interest}} {
		if l.Name = strings.ToLower(strings.TrimSpace(l.Name)); l.Name != "" {
			out = append(out, l)
		}
	}
	return out
}
