package geo

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/geopulse/geopulse"
)

func venue(lat, lon, r float64) *geopulse.Place {
	return &geopulse.Place{ID: 1, Center: &geopulse.LatLon{Lat: lat, Lon: lon}, RadiusM: r}
}

func TestNewShape(t *testing.T) {
	poly := json.RawMessage(`{"type":"Polygon","coordinates":[` + square + `]}`)
	tests := []struct {
		name   string
		place  *geopulse.Place
		reason string
		msg    string
		bbox   *geopulse.BBox // checked to 1e-6 when set
	}{
		{name: "venue", place: venue(48.8566, 2.3522, 100)},
		{name: "venue minimum radius", place: venue(0, 0, MinRadiusM)},
		{name: "venue maximum radius", place: venue(0, 0, MaxRadiusM)},
		{name: "venue at the north pole spans every longitude", place: venue(90, 0, 1000),
			bbox: &geopulse.BBox{MinLat: 90 - 1000/mPerDeg, MinLon: -180, MaxLat: 90, MaxLon: 180}},
		{name: "venue whose circle contains the south pole", place: venue(-89.999, 10, 1000),
			bbox: &geopulse.BBox{MinLat: -90, MinLon: -180, MaxLat: -89.999 + 1000/mPerDeg, MaxLon: 180}},
		{name: "venue on the equator", place: venue(0, 0, mPerDeg/10),
			bbox: &geopulse.BBox{MinLat: -0.1, MinLon: -0.1, MaxLat: 0.1, MaxLon: 0.1}},
		{name: "venue at 60 degrees uses cos(lat)", place: venue(60, 0, 1000),
			bbox: &geopulse.BBox{MinLat: 60 - 1000/mPerDeg, MinLon: -2000 / mPerDeg, MaxLat: 60 + 1000/mPerDeg, MaxLon: 2000 / mPerDeg}},
		{name: "venue touching but not crossing the antimeridian", place: venue(0, 180-1000/mPerDeg-1e-7, 1000)},
		{name: "polygon", place: &geopulse.Place{Geometry: poly},
			bbox: &geopulse.BBox{MinLat: 0, MinLon: 0, MaxLat: 1, MaxLon: 1}},
		{name: "polygon with null radius field zero", place: &geopulse.Place{Geometry: poly, RadiusM: 0}},

		{name: "nil place", place: nil, reason: geopulse.ReasonInvalidGeometry, msg: "missing"},
		{name: "venue lat NaN", place: venue(math.NaN(), 0, 100), reason: geopulse.ReasonInvalidCoordinates, msg: "center"},
		{name: "venue lon +Inf", place: venue(0, math.Inf(1), 100), reason: geopulse.ReasonInvalidCoordinates, msg: "lon finite"},
		{name: "venue lon -Inf", place: venue(0, math.Inf(-1), 100), reason: geopulse.ReasonInvalidCoordinates, msg: "center"},
		{name: "venue lat 91", place: venue(91, 0, 100), reason: geopulse.ReasonInvalidCoordinates, msg: "±90"},
		{name: "venue lon -180.5", place: venue(0, -180.5, 100), reason: geopulse.ReasonInvalidCoordinates, msg: "±180"},
		{name: "radius zero", place: venue(0, 0, 0), reason: geopulse.ReasonInvalidGeometry, msg: "radius_m must be between 1 and 50000"},
		{name: "radius below one metre", place: venue(0, 0, 0.5), reason: geopulse.ReasonInvalidGeometry, msg: "got 0.5"},
		{name: "radius negative", place: venue(0, 0, -10), reason: geopulse.ReasonInvalidGeometry, msg: "radius_m"},
		{name: "radius above 50 km", place: venue(0, 0, 50_001), reason: geopulse.ReasonInvalidGeometry, msg: "radius_m"},
		{name: "radius NaN", place: venue(0, 0, math.NaN()), reason: geopulse.ReasonInvalidGeometry, msg: "radius_m"},
		{name: "radius +Inf", place: venue(0, 0, math.Inf(1)), reason: geopulse.ReasonInvalidGeometry, msg: "radius_m"},
		{name: "venue crossing the antimeridian", place: venue(-17, 179.99, 5000), reason: geopulse.ReasonInvalidGeometry, msg: "antimeridian"},
		{name: "venue crossing the antimeridian westwards", place: venue(65, -179.99, 2000), reason: geopulse.ReasonInvalidGeometry, msg: "antimeridian"},
		{name: "both venue and geometry", place: &geopulse.Place{Center: &geopulse.LatLon{}, RadiusM: 10, Geometry: poly}, reason: geopulse.ReasonInvalidGeometry, msg: "not both"},
		{name: "no shape", place: &geopulse.Place{Name: "x"}, reason: geopulse.ReasonInvalidGeometry, msg: "needs a shape"},
		{name: "null geometry is no shape", place: &geopulse.Place{Geometry: json.RawMessage(" null ")}, reason: geopulse.ReasonInvalidGeometry, msg: "needs a shape"},
		{name: "radius without center", place: &geopulse.Place{RadiusM: 100}, reason: geopulse.ReasonInvalidGeometry, msg: "needs a center"},
		{name: "radius with geometry", place: &geopulse.Place{Geometry: poly, RadiusM: 100}, reason: geopulse.ReasonInvalidGeometry, msg: "only to venues"},
		{name: "invalid geometry", place: &geopulse.Place{Geometry: json.RawMessage(`{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`)}, reason: geopulse.ReasonInvalidGeometry, msg: "intersects itself"},
		{name: "malformed geometry", place: &geopulse.Place{Geometry: json.RawMessage(`{"type":`)}, reason: geopulse.ReasonMalformedJSON, msg: "JSON"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := NewShape(tt.place)
			if tt.reason != "" {
				if err == nil {
					t.Fatal("NewShape accepted an invalid place")
				}
				requireReason(t, err, tt.reason, tt.msg)
				return
			}
			if err != nil {
				t.Fatalf("NewShape: %v", err)
			}
			b := s.BBox()
			if !(b.MinLat <= b.MaxLat && b.MinLon <= b.MaxLon) || !ValidLatLon(b.MinLat, b.MinLon) || !ValidLatLon(b.MaxLat, b.MaxLon) {
				t.Fatalf("bbox %+v is not a valid box", b)
			}
			if tt.bbox != nil {
				w := *tt.bbox
				if math.Abs(b.MinLat-w.MinLat) > 1e-6 || math.Abs(b.MinLon-w.MinLon) > 1e-6 ||
					math.Abs(b.MaxLat-w.MaxLat) > 1e-6 || math.Abs(b.MaxLon-w.MaxLon) > 1e-6 {
					t.Fatalf("bbox = %+v, want %+v", b, w)
				}
			}
		})
	}
}

func TestShapeContains(t *testing.T) {
	cafe, err := NewShape(venue(48.8566, 2.3522, 100))
	if err != nil {
		t.Fatal(err)
	}
	kiosk, err := NewShape(venue(48.8566, 2.3522, 20))
	if err != nil {
		t.Fatal(err)
	}
	// A square of about 1.1 km by 0.73 km around the Louvre with a hole in
	// the middle third; half its diagonal is about 665 m.
	park, err := NewShape(&geopulse.Place{Geometry: polygonJSON(
		[][2]float64{{2.33, 48.86}, {2.34, 48.86}, {2.34, 48.87}, {2.33, 48.87}, {2.33, 48.86}},
		[][2]float64{{2.3333, 48.8633}, {2.3333, 48.8666}, {2.3366, 48.8666}, {2.3366, 48.8633}, {2.3333, 48.8633}},
	)})
	if err != nil {
		t.Fatal(err)
	}
	parkHalfDiag := haversineM(48.86, 2.33, 48.87, 2.34) / 2
	north := func(m float64) float64 { return 48.8566 + m/mPerDeg }
	tests := []struct {
		name     string
		shape    *Shape
		lat, lon float64
		acc      float64
		want     bool
	}{
		{name: "venue centre exact", shape: cafe, lat: 48.8566, lon: 2.3522, want: true},
		{name: "venue 99 m away", shape: cafe, lat: north(99), lon: 2.3522, want: true},
		{name: "venue 101 m away", shape: cafe, lat: north(101), lon: 2.3522, want: false},
		{name: "venue accuracy equal to radius", shape: cafe, lat: 48.8566, lon: 2.3522, acc: 100, want: true},
		{name: "venue accuracy above radius", shape: cafe, lat: 48.8566, lon: 2.3522, acc: 100.5, want: false},
		{name: "city-sized accuracy never inside a venue", shape: cafe, lat: 48.8566, lon: 2.3522, acc: 5000, want: false},
		{name: "small venue tolerates 50 m", shape: kiosk, lat: 48.8566, lon: 2.3522, acc: 50, want: true},
		{name: "small venue rejects 51 m", shape: kiosk, lat: 48.8566, lon: 2.3522, acc: 51, want: false},
		{name: "small venue point outside", shape: kiosk, lat: north(25), lon: 2.3522, want: false},
		{name: "negative accuracy", shape: cafe, lat: 48.8566, lon: 2.3522, acc: -1, want: false},
		{name: "NaN accuracy", shape: cafe, lat: 48.8566, lon: 2.3522, acc: math.NaN(), want: false},
		{name: "NaN point", shape: cafe, lat: math.NaN(), lon: 2.3522, want: false},
		{name: "polygon inside", shape: park, lat: 48.861, lon: 2.331, want: true},
		{name: "polygon on the edge counts", shape: park, lat: 48.86, lon: 2.335, want: true},
		{name: "polygon outside", shape: park, lat: 48.871, lon: 2.335, want: false},
		{name: "polygon in the hole", shape: park, lat: 48.865, lon: 2.335, want: false},
		{name: "polygon accuracy half diagonal", shape: park, lat: 48.861, lon: 2.331, acc: parkHalfDiag, want: true},
		{name: "polygon accuracy above half diagonal", shape: park, lat: 48.861, lon: 2.331, acc: parkHalfDiag + 1, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.shape.Contains(tt.lat, tt.lon, tt.acc); got != tt.want {
				t.Fatalf("Contains(%g, %g, %g) = %v, want %v", tt.lat, tt.lon, tt.acc, got, tt.want)
			}
		})
	}
}

// TestVenueBBoxContainsCircle walks the boundary of random venues, at every
// latitude short of the poles, and checks that the circle is inside its box
// and that the exact test agrees with the great-circle distance.
func TestVenueBBoxContainsCircle(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for range 300 {
		lat := (rng.Float64()*2 - 1) * 88
		lon := (rng.Float64()*2 - 1) * 170
		r := MinRadiusM + rng.Float64()*(MaxRadiusM-MinRadiusM)
		if rng.IntN(2) == 0 {
			r = 50 + rng.Float64()*450
		}
		s, err := NewCircle(lat, lon, r)
		if err != nil {
			t.Fatalf("NewCircle(%g, %g, %g): %v", lat, lon, r, err)
		}
		b := s.BBox()
		for bearing := 0.0; bearing < 360; bearing += 2.5 {
			la, lo := destination(lat, lon, bearing, r*(1-1e-7))
			if la < b.MinLat || la > b.MaxLat || lo < b.MinLon || lo > b.MaxLon {
				t.Fatalf("venue (%g, %g, %g m): boundary point (%g, %g) at bearing %g is outside bbox %+v", lat, lon, r, la, lo, bearing, b)
			}
			if !s.Contains(la, lo, 0) {
				t.Fatalf("venue (%g, %g, %g m): point just inside at bearing %g not contained", lat, lon, r, bearing)
			}
			la, lo = destination(lat, lon, bearing, r*(1+1e-6))
			if s.Contains(la, lo, 0) {
				t.Fatalf("venue (%g, %g, %g m): point just outside at bearing %g contained", lat, lon, r, bearing)
			}
		}
		// The box is tight: the extreme points of the circle touch it.
		tol := 1e-6
		if la, _ := destination(lat, lon, 0, r); math.Abs(la-b.MaxLat) > tol {
			t.Fatalf("venue (%g, %g, %g m): max lat %g, circle reaches %g", lat, lon, r, b.MaxLat, la)
		}
		maxLon := lon
		for bearing := 60.0; bearing <= 120; bearing += 0.01 {
			_, lo := destination(lat, lon, bearing, r)
			maxLon = max(maxLon, lo)
		}
		if maxLon > b.MaxLon || b.MaxLon-maxLon > 1e-5*(b.MaxLon-lon)+tol {
			t.Fatalf("venue (%g, %g, %g m): max lon %g, circle reaches %g", lat, lon, r, b.MaxLon, maxLon)
		}
	}
}

func TestHaversine(t *testing.T) {
	tests := []struct {
		name                   string
		lat1, lon1, lat2, lon2 float64
		want, tol              float64
	}{
		{name: "one degree of latitude", lat1: 10, lon1: 20, lat2: 11, lon2: 20, want: mPerDeg, tol: 1e-6},
		{name: "one degree of longitude at 60", lat1: 60, lon1: 0, lat2: 60, lon2: 1, want: 55_596.1, tol: 1},
		{name: "london to paris", lat1: 51.5074, lon1: -0.1278, lat2: 48.8566, lon2: 2.3522, want: 343_557, tol: 500},
		{name: "same point", lat1: 1, lon1: 1, lat2: 1, lon2: 1, want: 0, tol: 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := haversineM(tt.lat1, tt.lon1, tt.lat2, tt.lon2); math.Abs(got-tt.want) > tt.tol {
				t.Fatalf("haversineM = %f, want %f ± %g", got, tt.want, tt.tol)
			}
		})
	}
}
