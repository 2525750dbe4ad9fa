package geo

import (
	"bytes"
	"fmt"
	"math"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
	"github.com/paulmach/orb"
)

const (
	square     = `[[0,0],[1,0],[1,1],[0,1],[0,0]]`
	squareHole = `[[0.2,0.2],[0.2,0.8],[0.8,0.8],[0.8,0.2],[0.2,0.2]]`
)

// manyVertices returns a Polygon whose ring is a circle of n positions
// (the last repeating the first).
func manyVertices(n int) string {
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := range n - 1 {
		th := 2 * math.Pi * float64(i) / float64(n-1)
		fmt.Fprintf(&b, "[%.12f,%.12f],", 10+math.Cos(th), 10+math.Sin(th))
	}
	b.WriteString(`[11,10]]]}`)
	return b.String()
}

// circleWithHole returns a Polygon: a circle of n positions around (10, 10)
// with a circular hole of h positions.
func circleWithHole(n, h int) string {
	ring := func(r float64, n int) string {
		var b strings.Builder
		for i := range n - 1 {
			th := 2 * math.Pi * float64(i) / float64(n-1)
			fmt.Fprintf(&b, "[%.12f,%.12f],", 10+r*math.Cos(th), 10+r*math.Sin(th))
		}
		fmt.Fprintf(&b, "[%.12f,10]", 10+r)
		return "[" + b.String() + "]"
	}
	return `{"type":"Polygon","coordinates":[` + ring(1, n) + `,` + ring(0.99, h) + `]}`
}

// comb returns a Polygon shaped like a comb: a zigzag of n corners whose
// teeth all span the polygon's width (swapped: its height), closed around
// the right-hand side. With cross, the last tooth cuts back across the first.
func comb(n int, swapped, cross bool) string {
	var b strings.Builder
	pt := func(x, y float64) {
		if swapped {
			x, y = y, x
		}
		fmt.Fprintf(&b, "[%g,%g],", x, y)
	}
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := range n {
		pt(float64(i%2)*0.1, float64(i)*0.001)
	}
	if cross {
		pt(0.05, -0.0005)
	}
	pt(0.3, float64(n-1)*0.001)
	pt(0.3, -0.001)
	pt(0, -0.001)
	pt(0, 0)
	return strings.TrimSuffix(b.String(), ",") + `]]}`
}

func TestParseGeometry(t *testing.T) {
	tests := []struct {
		name   string
		json   string
		reason string // "" means valid
		msg    string // substring of the message
		want   string // GeoJSON type of a valid result
	}{
		{name: "polygon", json: `{"type":"Polygon","coordinates":[` + square + `]}`, want: "Polygon"},
		{name: "polygon with hole", json: `{"type":"Polygon","coordinates":[` + square + `,` + squareHole + `]}`, want: "Polygon"},
		{name: "multipolygon", json: `{"type":"MultiPolygon","coordinates":[[` + square + `],[[[2,2],[3,2],[3,3],[2,2]]]]}`, want: "MultiPolygon"},
		{name: "altitude is ignored", json: `{"type":"Polygon","coordinates":[[[0,0,5],[1,0,5],[1,1,5],[0,0,5]]]}`, want: "Polygon"},
		{name: "repeated consecutive position", json: `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[1,1],[0,0]]]}`, want: "Polygon"},
		{name: "hole touching outer at a point", json: `{"type":"Polygon","coordinates":[` + square + `,[[0,0],[0.5,0.2],[0.2,0.5],[0,0]]]}`, want: "Polygon"},
		{name: "polygon at the poles and antimeridian edge", json: `{"type":"Polygon","coordinates":[[[0,89],[180,89],[180,90],[0,90],[0,89]]]}`, want: "Polygon"},
		{name: "foreign members ignored", json: `{"type":"Polygon","bbox":[0,0,1,1],"coordinates":[` + square + `]}`, want: "Polygon"},

		{name: "malformed json", json: `{"type":"Polygon","coordinates":[`, reason: geopulse.ReasonMalformedJSON, msg: "not valid JSON"},
		{name: "empty input", json: ``, reason: geopulse.ReasonInvalidGeometry, msg: "empty"},
		{name: "json null", json: `null`, reason: geopulse.ReasonInvalidGeometry, msg: "no \"type\""},
		{name: "array not object", json: `[1,2]`, reason: geopulse.ReasonInvalidGeometry, msg: "GeoJSON object"},
		{name: "missing type", json: `{"coordinates":[` + square + `]}`, reason: geopulse.ReasonInvalidGeometry, msg: "no \"type\""},
		{name: "type not a string", json: `{"type":5}`, reason: geopulse.ReasonInvalidGeometry, msg: "GeoJSON object"},
		{name: "point", json: `{"type":"Point","coordinates":[0,0]}`, reason: geopulse.ReasonInvalidGeometry, msg: `"Point" is not supported`},
		{name: "linestring", json: `{"type":"LineString","coordinates":[[0,0],[1,1]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "not supported"},
		{name: "geometry collection", json: `{"type":"GeometryCollection","geometries":[]}`, reason: geopulse.ReasonInvalidGeometry, msg: "not supported"},
		{name: "feature", json: `{"type":"Feature","geometry":{"type":"Polygon","coordinates":[` + square + `]}}`, reason: geopulse.ReasonInvalidGeometry, msg: "not supported"},
		{name: "lowercase type", json: `{"type":"polygon","coordinates":[` + square + `]}`, reason: geopulse.ReasonInvalidGeometry, msg: "not supported"},
		{name: "empty polygon", json: `{"type":"Polygon","coordinates":[]}`, reason: geopulse.ReasonInvalidGeometry, msg: "empty"},
		{name: "missing coordinates", json: `{"type":"Polygon"}`, reason: geopulse.ReasonInvalidGeometry, msg: "empty"},
		{name: "empty multipolygon", json: `{"type":"MultiPolygon","coordinates":[]}`, reason: geopulse.ReasonInvalidGeometry, msg: "empty"},
		{name: "multipolygon with empty polygon", json: `{"type":"MultiPolygon","coordinates":[[` + square + `],[]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "polygon 2 is empty"},
		{name: "coordinates wrong nesting", json: `{"type":"Polygon","coordinates":[[0,0],[1,0],[1,1],[0,0]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "array of linear rings"},
		{name: "coordinates a string", json: `{"type":"MultiPolygon","coordinates":"x"}`, reason: geopulse.ReasonInvalidGeometry, msg: "array of polygons"},
		{name: "position with one number", json: `{"type":"Polygon","coordinates":[[[0,0],[1],[1,1],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "not [lon, lat]"},
		{name: "position with null", json: `{"type":"Polygon","coordinates":[[[0,0],[1,null],[1,1],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "not [lon, lat]"},
		{name: "number out of float range", json: `{"type":"Polygon","coordinates":[[[0,0],[1e400,0],[1,1],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "array of linear rings"},
		{name: "lon out of range", json: `{"type":"Polygon","coordinates":[[[0,0],[181,0],[1,1],[0,0]]]}`, reason: geopulse.ReasonInvalidCoordinates, msg: "[181, 0]"},
		{name: "lat out of range", json: `{"type":"Polygon","coordinates":[[[0,0],[1,-90.5],[1,1],[0,0]]]}`, reason: geopulse.ReasonInvalidCoordinates, msg: "lat within ±90"},
		{name: "lat lon swapped out of range", json: `{"type":"Polygon","coordinates":[[[10,100],[11,100],[11,101],[10,100]]]}`, reason: geopulse.ReasonInvalidCoordinates, msg: "[lon, lat]"},
		{name: "ring too short", json: `{"type":"Polygon","coordinates":[[[0,0],[1,0],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "at least 4"},
		{name: "ring not closed", json: `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "not closed"},
		{name: "hole not closed", json: `{"type":"Polygon","coordinates":[` + square + `,[[0.2,0.2],[0.2,0.8],[0.8,0.8],[0.8,0.2]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "hole 1 is not closed"},
		{name: "too few distinct corners", json: `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,0],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "fewer than 3 distinct"},
		{name: "collinear ring doubles back", json: `{"type":"Polygon","coordinates":[[[0,0],[1,1],[2,2],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
		{name: "bowtie", json: `{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
		{name: "figure eight through a vertex", json: `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[2,1],[2,2],[1,2],[1,1],[0,1],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
		{name: "spike", json: `{"type":"Polygon","coordinates":[[[0,0],[2,0],[1,0],[1,1],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
		{name: "vertex touching an edge", json: `{"type":"Polygon","coordinates":[[[0,0],[4,0],[4,4],[2,0],[0,4],[0,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
		{name: "self intersection in multipolygon", json: `{"type":"MultiPolygon","coordinates":[[` + square + `],[[[5,5],[6,6],[6,5],[5,6],[5,5]]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "outer ring of polygon 2 intersects itself"},
		{name: "hole outside outer ring", json: `{"type":"Polygon","coordinates":[` + square + `,[[2,2],[2,3],[3,3],[3,2],[2,2]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "hole 1 is not inside"},
		{name: "hole crossing outer ring", json: `{"type":"Polygon","coordinates":[` + square + `,[[0.5,0.5],[0.5,1.5],[0.8,1.5],[0.8,0.5],[0.5,0.5]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "hole 1 crosses the outer ring"},
		{name: "hole sharing an edge with outer", json: `{"type":"Polygon","coordinates":[` + square + `,[[0,0.2],[0.5,0.2],[0.5,0.8],[0,0.8],[0,0.2]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "crosses the outer ring"},
		{name: "holes crossing each other", json: `{"type":"Polygon","coordinates":[` + square + `,` + squareHole + `,[[0.5,0.5],[0.5,0.9],[0.9,0.9],[0.9,0.5],[0.5,0.5]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "crosses hole 1"},
		{name: "antimeridian jump", json: `{"type":"Polygon","coordinates":[[[179,0],[-179,0],[-179,1],[179,1],[179,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "split it into two polygons"},
		{name: "ring wider than 180 degrees", json: `{"type":"Polygon","coordinates":[[[-100,0],[0,1],[100,0],[0,-1],[-100,0]]]}`, reason: geopulse.ReasonInvalidGeometry, msg: "antimeridian"},
		{name: "comb swept along y", json: comb(2000, false, false), want: "Polygon"},
		{name: "comb swept along x", json: comb(2000, true, false), want: "Polygon"},
		{name: "comb with a crossing tooth", json: comb(2000, false, true), reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
		{name: "swapped comb with a crossing tooth", json: comb(2000, true, true), reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
		{name: "large hole close to a large ring", json: circleWithHole(MaxVertices/2, MaxVertices/2), want: "Polygon"},
		{name: "too many vertices", json: manyVertices(MaxVertices + 1), reason: geopulse.ReasonTooLarge, msg: "limit is 10000"},
		{name: "raw json over 1 MiB", json: `{"type":"Polygon","coordinates":[` + square + `]}` + strings.Repeat(" ", MaxGeometryBytes), reason: geopulse.ReasonTooLarge, msg: "1 MiB"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g, err := ParseGeometry([]byte(tt.json))
			if tt.reason != "" {
				if err == nil {
					t.Fatalf("ParseGeometry accepted %s", truncate(tt.json, 200))
				}
				requireReason(t, err, tt.reason, tt.msg)
				return
			}
			if err != nil {
				t.Fatalf("ParseGeometry: %v", err)
			}
			if got := g.GeoJSONType(); got != tt.want {
				t.Fatalf("type = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseGeometryMaxVerticesAccepted(t *testing.T) {
	g, err := ParseGeometry([]byte(manyVertices(MaxVertices)))
	if err != nil {
		t.Fatalf("ParseGeometry with %d vertices: %v", MaxVertices, err)
	}
	if n := len(g.(orb.Polygon)[0]); n != MaxVertices {
		t.Fatalf("ring has %d positions, want %d", n, MaxVertices)
	}
}

func TestParseGeometryValues(t *testing.T) {
	raw := []byte(`{"type":"Polygon","coordinates":[[[2.29,48.85],[2.30,48.85],[2.30,48.86],[2.29,48.85]]]}`)
	g, err := ParseGeometry(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := orb.Polygon{{{2.29, 48.85}, {2.30, 48.85}, {2.30, 48.86}, {2.29, 48.85}}}
	if !orb.Equal(g, want) {
		t.Fatalf("geometry = %v, want %v", g, want)
	}
	if !bytes.Contains(raw, []byte("48.86")) {
		t.Fatal("input was modified")
	}
}
