package geo

import (
	"slices"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
)

func TestParseFeatureCollection(t *testing.T) {
	const polyGeom = `{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}`
	feature := func(geom, props string) string {
		return `{"type":"Feature","geometry":` + geom + `,"properties":` + props + `}`
	}
	point := `{"type":"Point","coordinates":[2.3522,48.8566]}`
	tests := []struct {
		name    string
		feature string
		reason  string // "" means valid
		msg     string
		check   func(t *testing.T, p *geopulse.Place)
	}{
		{name: "point with default radius", feature: feature(point, `{"name":"Café de Flore"}`),
			check: func(t *testing.T, p *geopulse.Place) {
				if p.Center == nil || p.Center.Lat != 48.8566 || p.Center.Lon != 2.3522 || p.RadiusM != DefaultRadiusM || p.Geometry != nil {
					t.Fatalf("place = %+v", p)
				}
				if p.Name != "Café de Flore" || p.WorkspaceID != 0 || p.BBox.MinLat >= p.BBox.MaxLat {
					t.Fatalf("place = %+v", p)
				}
			}},
		{name: "point with radius and all properties", feature: feature(point,
			`{"name":" Hotel ","category":"hotel","brand":"Ritz","groups":["competitors"," paris ",""],"radius_m":250,"extra":1}`),
			check: func(t *testing.T, p *geopulse.Place) {
				if p.Name != "Hotel" || p.Category != "hotel" || p.Brand != "Ritz" || p.RadiusM != 250 ||
					!slices.Equal(p.Groups, []string{"competitors", "paris"}) {
					t.Fatalf("place = %+v", p)
				}
			}},
		{name: "sensitive", feature: feature(polyGeom, `{"name":"clinic grounds","sensitive":true}`),
			check: func(t *testing.T, p *geopulse.Place) {
				if !p.Sensitive {
					t.Fatalf("place = %+v, want sensitive", p)
				}
			}},
		{name: "sensitive false", feature: feature(point, `{"name":"bar","sensitive":false}`),
			check: func(t *testing.T, p *geopulse.Place) {
				if p.Sensitive {
					t.Fatalf("place = %+v, want not sensitive", p)
				}
			}},
		{name: "sensitive null", feature: feature(point, `{"name":"bar","sensitive":null}`),
			check: func(t *testing.T, p *geopulse.Place) {
				if p.Sensitive {
					t.Fatalf("place = %+v, want not sensitive", p)
				}
			}},
		{name: "point with altitude", feature: feature(`{"type":"Point","coordinates":[2.35,48.85,35]}`, `{"name":"x"}`)},
		{name: "polygon", feature: feature(polyGeom, `{"name":"park","radius_m":null}`),
			check: func(t *testing.T, p *geopulse.Place) {
				if p.Center != nil || p.RadiusM != 0 || string(p.Geometry) != `{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}` {
					t.Fatalf("place = %+v, geometry %s", p, p.Geometry)
				}
				if p.BBox != (geopulse.BBox{MinLat: 0, MinLon: 0, MaxLat: 1, MaxLon: 1}) {
					t.Fatalf("bbox = %+v", p.BBox)
				}
			}},
		{name: "multipolygon", feature: feature(`{"type":"MultiPolygon","coordinates":[[[[0,0],[1,0],[1,1],[0,0]]]]}`, `{"name":"zone"}`)},

		{name: "not a feature", feature: `{"type":"Point","coordinates":[0,0]}`, reason: geopulse.ReasonInvalidField, msg: "not a GeoJSON Feature"},
		{name: "feature is a string", feature: `"x"`, reason: geopulse.ReasonInvalidField, msg: "not a GeoJSON Feature"},
		{name: "missing properties", feature: `{"type":"Feature","geometry":` + point + `}`, reason: geopulse.ReasonMissingField, msg: "properties.name is required"},
		{name: "properties not an object", feature: feature(point, `[1]`), reason: geopulse.ReasonInvalidField, msg: "properties must be a JSON object"},
		{name: "missing name", feature: feature(point, `{"category":"bar"}`), reason: geopulse.ReasonMissingField, msg: "properties.name is required"},
		{name: "blank name", feature: feature(point, `{"name":"  "}`), reason: geopulse.ReasonMissingField, msg: "must not be empty"},
		{name: "name not a string", feature: feature(point, `{"name":5}`), reason: geopulse.ReasonInvalidField, msg: "properties.name must be a string"},
		{name: "category not a string", feature: feature(point, `{"name":"a","category":[]}`), reason: geopulse.ReasonInvalidField, msg: "properties.category"},
		{name: "brand not a string", feature: feature(point, `{"name":"a","brand":true}`), reason: geopulse.ReasonInvalidField, msg: "properties.brand"},
		{name: "groups not an array", feature: feature(point, `{"name":"a","groups":"vip"}`), reason: geopulse.ReasonInvalidField, msg: "properties.groups"},
		{name: "groups with a number", feature: feature(point, `{"name":"a","groups":["vip",3]}`), reason: geopulse.ReasonInvalidField, msg: "properties.groups"},
		{name: "groups with null", feature: feature(point, `{"name":"a","groups":[null]}`), reason: geopulse.ReasonInvalidField, msg: "properties.groups"},
		{name: "sensitive a string", feature: feature(point, `{"name":"a","sensitive":"true"}`), reason: geopulse.ReasonInvalidField, msg: "properties.sensitive must be true or false"},
		{name: "sensitive a number", feature: feature(point, `{"name":"a","sensitive":1}`), reason: geopulse.ReasonInvalidField, msg: "properties.sensitive"},
		{name: "radius a string", feature: feature(point, `{"name":"a","radius_m":"100"}`), reason: geopulse.ReasonInvalidField, msg: "properties.radius_m"},
		{name: "radius too large", feature: feature(point, `{"name":"a","radius_m":60000}`), reason: geopulse.ReasonInvalidGeometry, msg: "radius_m must be between"},
		{name: "radius zero", feature: feature(point, `{"name":"a","radius_m":0}`), reason: geopulse.ReasonInvalidGeometry, msg: "radius_m"},
		{name: "null geometry", feature: feature(`null`, `{"name":"a"}`), reason: geopulse.ReasonInvalidGeometry, msg: "no geometry"},
		{name: "geometry not an object", feature: feature(`[]`, `{"name":"a"}`), reason: geopulse.ReasonInvalidGeometry, msg: "GeoJSON object"},
		{name: "linestring", feature: feature(`{"type":"LineString","coordinates":[[0,0],[1,1]]}`, `{"name":"a"}`), reason: geopulse.ReasonInvalidGeometry, msg: `"LineString" is not supported`},
		{name: "point without coordinates", feature: feature(`{"type":"Point"}`, `{"name":"a"}`), reason: geopulse.ReasonInvalidGeometry, msg: "[lon, lat]"},
		{name: "point with one number", feature: feature(`{"type":"Point","coordinates":[1]}`, `{"name":"a"}`), reason: geopulse.ReasonInvalidGeometry, msg: "[lon, lat]"},
		{name: "point out of range", feature: feature(`{"type":"Point","coordinates":[48.8,200]}`, `{"name":"a"}`), reason: geopulse.ReasonInvalidCoordinates, msg: "center"},
		{name: "bad polygon", feature: feature(`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`, `{"name":"a"}`), reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
	}
	var features []string
	for _, tt := range tests {
		features = append(features, tt.feature)
	}
	doc := `{"type":"FeatureCollection","features":[` + strings.Join(features, ",") + `]}`
	places, errs := ParseFeatureCollection([]byte(doc))
	if len(places) != len(tests) || len(errs) != len(tests) {
		t.Fatalf("got %d places and %d errors for %d features", len(places), len(errs), len(tests))
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := places[i], errs[i]
			if tt.reason != "" {
				if err == nil || p != nil {
					t.Fatalf("feature accepted: %+v", p)
				}
				requireReason(t, err, tt.reason, tt.msg)
				requireReason(t, err, tt.reason, "features[")
				return
			}
			if err != nil || p == nil {
				t.Fatalf("feature rejected: %v", err)
			}
			if _, err := NewShape(p); err != nil {
				t.Fatalf("accepted place has an invalid shape: %v", err)
			}
			if tt.check != nil {
				tt.check(t, p)
			}
		})
	}
}

func TestParseFeatureCollectionDocument(t *testing.T) {
	tests := []struct {
		name   string
		doc    string
		n      int    // features when valid
		reason string // top-level error
	}{
		{name: "empty collection", doc: `{"type":"FeatureCollection","features":[]}`, n: 0},
		{name: "collection without features", doc: `{"type":"FeatureCollection"}`, n: 0},
		{name: "malformed json", doc: `{"type":"FeatureCollection","features":[`, reason: geopulse.ReasonMalformedJSON},
		{name: "empty document", doc: ``, reason: geopulse.ReasonMalformedJSON},
		{name: "array", doc: `[]`, reason: geopulse.ReasonInvalidField},
		{name: "single feature", doc: `{"type":"Feature","geometry":null,"properties":{}}`, reason: geopulse.ReasonInvalidField},
		{name: "features not an array", doc: `{"type":"FeatureCollection","features":{}}`, reason: geopulse.ReasonInvalidField},
		{name: "bare geometry", doc: `{"type":"Polygon","coordinates":[]}`, reason: geopulse.ReasonInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			places, errs := ParseFeatureCollection([]byte(tt.doc))
			if tt.reason != "" {
				if places != nil || len(errs) != 1 {
					t.Fatalf("places = %v, errs = %v; want nil and one error", places, errs)
				}
				requireReason(t, errs[0], tt.reason, "")
				return
			}
			if len(places) != tt.n || len(errs) != tt.n {
				t.Fatalf("got %d places, %d errs, want %d", len(places), len(errs), tt.n)
			}
		})
	}
}
