package geo

import (
	"math"
	"slices"

	"github.com/geopulse/geopulse"
	"github.com/tidwall/rtree"
)

// Index matches points against many places: an in-memory R-tree
// (tidwall/rtree) of place bounding boxes plus the exact Shape test. It is
// immutable once built and safe for concurrent use.
type Index struct {
	tree rtree.RTreeG[int32]
	// ids and shapes are parallel; the tree stores positions into them,
	// which keeps tree items small and shapes contiguous in memory.
	ids    []int64
	shapes []Shape
}

// NewIndex builds an index of places. Places whose shape is invalid (and
// nil places or repeated IDs) are skipped and reported in errs, one entry per
// skipped place, each a *geopulse.Error whose message names the place ID.
func NewIndex(places []*geopulse.Place) (ix *Index, errs []error) {
	ix = &Index{
		ids:    make([]int64, 0, len(places)),
		shapes: make([]Shape, 0, len(places)),
	}
	seen := make(map[int64]struct{}, len(places))
	for i, p := range places {
		if p == nil {
			errs = append(errs, invalidGeometry("place at position %d is nil", i))
			continue
		}
		if _, dup := seen[p.ID]; dup {
			errs = append(errs, geopulse.Reject(geopulse.ReasonInvalidField, "place %d: duplicate place id; only the first is indexed", p.ID))
			continue
		}
		s, err := NewShape(p)
		if err != nil {
			errs = append(errs, geopulse.Reject(geopulse.ErrorReason(err), "place %d (%s): %s",
				p.ID, truncate(p.Name, 80), geopulse.ErrorMessage(err)))
			continue
		}
		seen[p.ID] = struct{}{}
		ix.ids = append(ix.ids, p.ID)
		ix.shapes = append(ix.shapes, *s)
	}
	for i := range ix.shapes {
		b := ix.shapes[i].bbox
		ix.tree.Insert([2]float64{b.MinLon, b.MinLat}, [2]float64{b.MaxLon, b.MaxLat}, int32(i))
	}
	return ix, errs
}

// Len returns the number of places in the index.
func (ix *Index) Len() int { return len(ix.ids) }

// Match appends to dst the IDs of the places containing the point (per
// Shape.Contains), in ascending order, and returns it. It does not allocate
// when dst has room for the matches.
func (ix *Index) Match(lat, lon, accuracyM float64, dst []int64) []int64 {
	if !ValidLatLon(lat, lon) || !(accuracyM >= 0) {
		return dst
	}
	start := len(dst)
	cosLat := math.Cos(lat * degToRad)
	pt := [2]float64{lon, lat}
	// The tree only yields boxes containing the point, so the exact test
	// skips its own box check. The closure does not escape: no allocation.
	ix.tree.Search(pt, pt, func(_, _ [2]float64, i int32) bool {
		if ix.shapes[i].contains(lat, lon, cosLat, accuracyM) {
			dst = append(dst, ix.ids[i])
		}
		return true
	})
	// A stable order makes results comparable across runs and stores;
	// slices.Sort does not allocate.
	slices.Sort(dst[start:])
	return dst
}
