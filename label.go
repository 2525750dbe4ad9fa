package geopulse

import (
	"context"
	"time"
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
