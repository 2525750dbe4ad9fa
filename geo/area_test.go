package geo

import (
	"math"
	"testing"

	"github.com/geopulse/geopulse"
)

func TestBBoxArea(t *testing.T) {
	tests := []struct {
		name                           string
		minLat, minLon, maxLat, maxLon float64
		reason                         string
		msg                            string
	}{
		{name: "paris", minLat: 48.8, minLon: 2.2, maxLat: 48.9, maxLon: 2.5},
		{name: "whole world", minLat: -90, minLon: -180, maxLat: 90, maxLon: 180},
		{name: "a point", minLat: 1, minLon: 1, maxLat: 1, maxLon: 1},
		{name: "lat out of range", minLat: -91, maxLat: 0, reason: geopulse.ReasonInvalidCoordinates, msg: "±90"},
		{name: "NaN", minLat: math.NaN(), maxLat: 1, maxLon: 1, reason: geopulse.ReasonInvalidCoordinates, msg: "finite"},
		{name: "Inf", minLat: 0, maxLat: 1, maxLon: math.Inf(1), reason: geopulse.ReasonInvalidCoordinates, msg: "finite"},
		{name: "min lat above max lat", minLat: 2, maxLat: 1, maxLon: 1, reason: geopulse.ReasonInvalidCoordinates, msg: "min_lat 2 is greater"},
		{name: "crossing the antimeridian", minLat: 0, minLon: 170, maxLat: 1, maxLon: -170, reason: geopulse.ReasonInvalidCoordinates, msg: "antimeridian"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := BBoxArea(tt.minLat, tt.minLon, tt.maxLat, tt.maxLon)
			if tt.reason != "" {
				requireReason(t, err, tt.reason, tt.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if a.MinLat != tt.minLat || a.MinLon != tt.minLon || a.MaxLat != tt.maxLat || a.MaxLon != tt.maxLon || a.Contains != nil {
				t.Fatalf("area = %+v", a)
			}
		})
	}
}

func TestCircleAndPolygonArea(t *testing.T) {
	circle, err := CircleArea(48.8566, 2.3522, 1000)
	if err != nil {
		t.Fatal(err)
	}
	poly, err := PolygonArea([]byte(`{"type":"Polygon","coordinates":[` + square + `,` + squareHole + `]}`))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		area     *geopulse.Area
		lat, lon float64
		want     bool
	}{
		{name: "circle centre", area: circle, lat: 48.8566, lon: 2.3522, want: true},
		{name: "circle 990 m north", area: circle, lat: 48.8566 + 990/mPerDeg, lon: 2.3522, want: true},
		{name: "circle 1010 m north", area: circle, lat: 48.8566 + 1010/mPerDeg, lon: 2.3522, want: false},
		{name: "circle bbox corner is outside", area: circle, lat: circle.MaxLat, lon: circle.MaxLon, want: false},
		{name: "polygon inside", area: poly, lat: 0.1, lon: 0.1, want: true},
		{name: "polygon hole", area: poly, lat: 0.5, lon: 0.5, want: false},
		{name: "polygon outside", area: poly, lat: 1.5, lon: 0.5, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.area.Contains == nil {
				t.Fatal("Contains is nil")
			}
			if tt.lat < tt.area.MinLat || tt.lat > tt.area.MaxLat || tt.lon < tt.area.MinLon || tt.lon > tt.area.MaxLon {
				if tt.want {
					t.Fatal("point expected inside is outside the bbox")
				}
			}
			if got := tt.area.Contains(tt.lat, tt.lon); got != tt.want {
				t.Fatalf("Contains(%g, %g) = %v, want %v", tt.lat, tt.lon, got, tt.want)
			}
		})
	}
}

func TestAreaErrors(t *testing.T) {
	tests := []struct {
		name   string
		make   func() (*geopulse.Area, error)
		reason string
		msg    string
	}{
		{name: "circle radius too big", make: func() (*geopulse.Area, error) { return CircleArea(0, 0, 1e6) }, reason: geopulse.ReasonInvalidGeometry, msg: "radius_m"},
		{name: "circle bad centre", make: func() (*geopulse.Area, error) { return CircleArea(math.NaN(), 0, 100) }, reason: geopulse.ReasonInvalidCoordinates, msg: "center"},
		{name: "polygon malformed", make: func() (*geopulse.Area, error) { return PolygonArea([]byte(`{`)) }, reason: geopulse.ReasonMalformedJSON, msg: "JSON"},
		{name: "polygon wrong type", make: func() (*geopulse.Area, error) {
			return PolygonArea([]byte(`{"type":"Point","coordinates":[0,0]}`))
		}, reason: geopulse.ReasonInvalidGeometry, msg: "Polygon or MultiPolygon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := tt.make()
			if a != nil {
				t.Fatalf("area = %+v, want nil", a)
			}
			requireReason(t, err, tt.reason, tt.msg)
		})
	}
}
