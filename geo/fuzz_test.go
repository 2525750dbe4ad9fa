package geo

import (
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
)

// geometrySeeds are good and hostile geometries shared by both fuzzers.
var geometrySeeds = []string{
	`{"type":"Polygon","coordinates":[` + square + `]}`,
	`{"type":"Polygon","coordinates":[` + square + `,` + squareHole + `]}`,
	`{"type":"MultiPolygon","coordinates":[[` + square + `],[[[2,2],[3,2],[3,3],[2,2]]]]}`,
	`{"type":"Polygon","coordinates":[[[0,0,1],[1,0,1],[1,1,1],[0,0,1]]]}`,
	`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`,
	`{"type":"Polygon","coordinates":[[[179,0],[-179,0],[-179,1],[179,1],[179,0]]]}`,
	`{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[1,1],[0,0]]]}`,
	`{"type":"Polygon","coordinates":[[[0,0],[1,null],[1,1],[0,0]]]}`,
	`{"type":"Polygon","coordinates":[[[-180,-90],[180,-90],[180,90],[-180,90],[-180,-90]]]}`,
	`{"type":"Polygon","coordinates":[[[0,0],[5e-324,0],[5e-324,5e-324],[0,0]]]}`,
	`{"type":"Polygon","coordinates":[[[0,0],[2,0],[1,0],[1,1],[0,0]]]}`,
	`{"type":"Polygon","coordinates":[[]]}`,
	`{"type":"MultiPolygon","coordinates":[[]]}`,
	`{"type":"Point","coordinates":[0,0]}`,
	`{"type":"Polygon","coordinates":{"a":1}}`,
	`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]],"type":"Point"}`,
	`{"TYPE":"Polygon","COORDINATES":[[[0,0],[1,0],[1,1],[0,0]]]}`,
	`[[[[0,0]]]]`,
	`null`,
	`{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]`,
	"\x00\xff",
	`{"type":"Polygon","coordinates":[` + strings.Repeat("[", 500) + strings.Repeat("]", 500) + `]}`,
}

// checkAccepted asserts what every accepted shape promises.
func checkAccepted(t *testing.T, s *Shape) {
	t.Helper()
	b := s.BBox()
	for _, v := range []float64{b.MinLat, b.MinLon, b.MaxLat, b.MaxLon} {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatalf("bbox %+v is not finite", b)
		}
	}
	if !ValidLatLon(b.MinLat, b.MinLon) || !ValidLatLon(b.MaxLat, b.MaxLon) || b.MinLat > b.MaxLat || b.MinLon > b.MaxLon {
		t.Fatalf("bbox %+v is outside ±90/±180 or inverted", b)
	}
	if m := s.MaxAccuracyM(); math.IsNaN(m) || m < 0 {
		t.Fatalf("max accuracy %g", m)
	}
	// Every accepted point among the box's corners and centre must be in
	// the covering.
	rs := s.Covering()
	for _, p := range [][2]float64{{b.MinLat, b.MinLon}, {b.MaxLat, b.MaxLon}, {(b.MinLat + b.MaxLat) / 2, (b.MinLon + b.MaxLon) / 2}} {
		if s.Contains(p[0], p[1], 0) && !inRanges(rs, CellID(p[0], p[1])) {
			t.Fatalf("point %v is inside but not in the covering %v", p, rs)
		}
	}
	for i, r := range rs {
		if face(r.Lo) != face(r.Hi) || r.Lo > r.Hi || (i > 0 && rs[i-1].Hi >= r.Lo) {
			t.Fatalf("bad covering %v", rs)
		}
	}
}

func requireDomainError(t *testing.T, err error) {
	t.Helper()
	var ge *geopulse.Error
	if !errors.As(err, &ge) || ge.Code != geopulse.EINVALID || ge.Reason == "" || ge.Message == "" {
		t.Fatalf("error %v (%T) is not an EINVALID *geopulse.Error with a reason", err, err)
	}
}

func FuzzParseGeometry(f *testing.F) {
	for _, s := range geometrySeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		g, err := ParseGeometry(data)
		if err != nil {
			requireDomainError(t, err)
			return
		}
		if g == nil {
			t.Fatal("nil geometry without error")
		}
		s, err := NewShape(&geopulse.Place{Geometry: data})
		if err != nil {
			t.Fatalf("ParseGeometry accepted what NewShape rejects: %v", err)
		}
		checkAccepted(t, s)
	})
}

func FuzzParseFeatureCollection(f *testing.F) {
	for _, g := range geometrySeeds {
		f.Add([]byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + g + `,"properties":{"name":"a"}}]}`))
	}
	for _, s := range []string{
		`{"type":"FeatureCollection","features":[]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[2.35,48.85]},"properties":{"name":"café","radius_m":250,"groups":["a","b"],"category":"bar","brand":"x"}}]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[179.9999,0]},"properties":{"name":"edge","radius_m":50000}}]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[0,90]},"properties":{"name":"pole"}}]}`,
		`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[0,0]},"properties":{"name":"a","radius_m":1e309}}]}`,
		`{"type":"FeatureCollection","features":[null,1,"x",{}]}`,
		`{"type":"FeatureCollection","features":null}`,
		`{"type":"Feature"}`,
		`[]`,
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		places, errs := ParseFeatureCollection(data)
		if places == nil {
			if len(errs) != 1 {
				t.Fatalf("no places and %d errors, want exactly one top-level error", len(errs))
			}
			requireDomainError(t, errs[0])
			return
		}
		if len(errs) != len(places) {
			t.Fatalf("%d places but %d errors", len(places), len(errs))
		}
		for i, p := range places {
			if (p == nil) == (errs[i] == nil) {
				t.Fatalf("feature %d: place %v and error %v; want exactly one", i, p, errs[i])
			}
			if errs[i] != nil {
				requireDomainError(t, errs[i])
				continue
			}
			s, err := NewShape(p)
			if err != nil {
				t.Fatalf("feature %d: accepted place has an invalid shape: %v", i, err)
			}
			if s.BBox() != p.BBox {
				t.Fatalf("feature %d: bbox %+v, shape says %+v", i, p.BBox, s.BBox())
			}
			if p.Name == "" {
				t.Fatalf("feature %d: accepted without a name", i)
			}
			checkAccepted(t, s)
		}
	})
}
