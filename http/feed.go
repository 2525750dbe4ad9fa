package http

import (
	"bytes"
	"encoding/json"
	"math"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
)

// Feed page sizes.
const (
	defaultFeedLimit = 50
	maxFeedLimit     = 500
)

// feedQuery is the feed filter as a client sends it: the query parameters
// of GET /v1/posts, or the JSON body of POST /v1/posts/search (same names).
type feedQuery struct {
	Place        []int64          `json:"place"`
	From         string           `json:"from"`
	To           string           `json:"to"`
	Kind         []string         `json:"kind"`
	Hashtag      string           `json:"hashtag"`
	Q            string           `json:"q"`
	MinFollowers int64            `json:"min_followers"`
	Label        string           `json:"label"`    // an object seen in the pictures
	Brand        string           `json:"brand"`    // a brand named in words or pictures
	Interest     string           `json:"interest"` // an interest of the taxonomy
	BBox         []float64        `json:"bbox"`     // minLon, minLat, maxLon, maxLat
	Near         *geopulse.LatLon `json:"near"`
	RadiusM      float64          `json:"radius_m"`
	Polygon      json.RawMessage  `json:"polygon"` // a GeoJSON Polygon or MultiPolygon geometry
	Cursor       string           `json:"cursor"`
	Limit        int              `json:"limit"`
}

// feedQueryFromURL reads the feed's query parameters. Unknown parameters
// are ignored, as is usual for query strings.
func feedQueryFromURL(v url.Values) (feedQuery, error) {
	var (
		q   feedQuery
		err error
	)
	if q.Place, err = parseIDs("place", list(v["place"])); err != nil {
		return q, err
	}
	q.From, q.To = v.Get("from"), v.Get("to")
	q.Kind = list(v["kind"])
	q.Hashtag, q.Q, q.Cursor = v.Get("hashtag"), v.Get("q"), v.Get("cursor")
	q.Label, q.Brand, q.Interest = v.Get("label"), v.Get("brand"), v.Get("interest")
	if q.MinFollowers, err = parseInt("min_followers", v.Get("min_followers"), 0, 0, math.MaxInt64); err != nil {
		return q, err
	}
	limit, err := parseInt("limit", v.Get("limit"), defaultFeedLimit, 1, maxFeedLimit)
	if err != nil {
		return q, err
	}
	q.Limit = int(limit)
	if s := v.Get("bbox"); s != "" {
		if q.BBox, err = parseFloats("bbox", s, 4); err != nil {
			return q, err
		}
	}
	if s := v.Get("near"); s != "" {
		ll, err := parseFloats("near", s, 2)
		if err != nil {
			return q, err
		}
		q.Near = &geopulse.LatLon{Lat: ll[0], Lon: ll[1]}
	}
	if s := v.Get("radius_m"); s != "" {
		r, err := parseFloats("radius_m", s, 1)
		if err != nil {
			return q, err
		}
		q.RadiusM = r[0]
	}
	if s := v.Get("polygon"); s != "" {
		q.Polygon = json.RawMessage(s)
	}
	return q, nil
}

// filter validates q and turns it into the store's filter for workspaceID.
func (q feedQuery) filter(workspaceID int64) (geopulse.PostFilter, error) {
	f := geopulse.PostFilter{
		WorkspaceID:  workspaceID,
		Hashtag:      strings.ToLower(strings.TrimPrefix(strings.TrimSpace(q.Hashtag), "#")),
		Text:         strings.TrimSpace(q.Q),
		MinFollowers: q.MinFollowers,
		Label:        q.Label,    // named as stored by PostFilter.RequiredLabels
		Brand:        q.Brand,    // named as stored by PostFilter.RequiredLabels
		Interest:     q.Interest, // named as stored by PostFilter.RequiredLabels
		Cursor:       q.Cursor,
		Limit:        q.Limit,
	}
	var err error
	for _, id := range q.Place {
		if id <= 0 {
			return f, paramError("place", "place must hold positive integer ids.")
		}
	}
	f.PlaceIDs = q.Place
	if f.From, f.To, err = parseRange(q.From, q.To); err != nil {
		return f, err
	}
	if f.Kinds, err = parseKinds(q.Kind); err != nil {
		return f, err
	}
	for name, v := range map[string]string{"label": f.Label, "brand": f.Brand, "interest": f.Interest} {
		if len(v) > 200 || !utf8.ValidString(v) {
			return f, paramError(name, "%s must be valid UTF-8 of at most 200 bytes.", name)
		}
	}
	if f.MinFollowers < 0 {
		return f, paramError("min_followers", "min_followers must not be negative.")
	}
	switch {
	case f.Limit == 0:
		f.Limit = defaultFeedLimit
	case f.Limit < 0 || f.Limit > maxFeedLimit:
		return f, paramError("limit", "limit must be from 1 to %d.", maxFeedLimit)
	}
	if f.Area, err = q.area(); err != nil {
		return f, err
	}
	return f, nil
}

// area builds the one area the query names, if any.
func (q feedQuery) area() (*geopulse.Area, error) {
	polygon := len(q.Polygon) > 0 && !bytes.Equal(bytes.TrimSpace(q.Polygon), []byte("null"))
	n := 0
	for _, set := range []bool{q.BBox != nil, q.Near != nil, polygon} {
		if set {
			n++
		}
	}
	if n > 1 {
		return nil, paramError("area", "Give at most one of bbox, near and polygon.")
	}
	if q.Near == nil && q.RadiusM != 0 {
		return nil, paramError("radius_m", "radius_m needs near=lat,lon.")
	}
	var (
		a     *geopulse.Area
		err   error
		param string
	)
	switch {
	case q.BBox != nil:
		param = "bbox"
		if len(q.BBox) != 4 {
			return nil, paramError(param, "bbox must be 4 numbers: minLon,minLat,maxLon,maxLat.")
		}
		a, err = geo.BBoxArea(q.BBox[1], q.BBox[0], q.BBox[3], q.BBox[2])
	case q.Near != nil:
		if q.RadiusM <= 0 {
			return nil, paramError("radius_m", "near needs radius_m, a positive number of metres.")
		}
		param = "near"
		a, err = geo.CircleArea(q.Near.Lat, q.Near.Lon, q.RadiusM)
	case polygon:
		param = "polygon"
		a, err = geo.PolygonArea(q.Polygon)
	}
	if err != nil {
		// The geometry's own message says what is wrong; the reason names
		// the parameter, as for every other bad parameter.
		return nil, paramError(param, "%s: %s", param, geopulse.ErrorMessage(err))
	}
	return a, nil
}
