package http_test

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
)

// squareJSON is a GeoJSON Polygon of half-side d degrees around c.
func squareJSON(c geopulse.LatLon, d float64) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"type":"Polygon","coordinates":[[[%[1]g,%[2]g],[%[3]g,%[2]g],[%[3]g,%[4]g],[%[1]g,%[4]g],[%[1]g,%[2]g]]]}`,
		c.Lon-d, c.Lat-d, c.Lon+d, c.Lat+d))
}

func TestPlaceLifecycle(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	// Posts first: the place created afterwards must show them (backfill).
	e.ingest(key, newPost("a", louvre, 1), newPost("b", louvre, 2), newPost("far", eiffel, 3))

	res := e.send(http.MethodPost, key, "/v1/places", map[string]any{
		"name": " Louvre ", "category": "museum", "brand": "RMN", "groups": []string{"paris", "paris", "museums"},
		"center": louvre, "radius_m": 200,
	})
	var p place
	res.decode(t, http.StatusCreated, &p)
	path := fmt.Sprintf("/v1/places/%d", p.ID)
	if loc := res.header.Get("Location"); loc != path {
		t.Errorf("Location = %q, want %q", loc, path)
	}
	if p.ID == 0 || p.Name != "Louvre" || p.Category != "museum" || p.Brand != "RMN" ||
		!slices.Equal(p.Groups, []string{"paris", "museums"}) || p.Center == nil || *p.Center != louvre ||
		p.RadiusM == nil || *p.RadiusM != 200 || string(p.Geometry) != "null" || p.CreatedAt.IsZero() || p.UpdatedAt.IsZero() {
		t.Errorf("created place = %+v", p)
	}
	if len(p.BBox) != 4 || !(p.BBox[0] < louvre.Lon && louvre.Lon < p.BBox[2] && p.BBox[1] < louvre.Lat && louvre.Lat < p.BBox[3]) {
		t.Errorf("bbox %v does not hold the center %v", p.BBox, louvre)
	}
	feedOf := func() []string { return sorted(e.feedIDs(key, fmt.Sprintf("place=%d", p.ID))) }
	if got := feedOf(); !slices.Equal(got, []string{"a", "b"}) {
		t.Fatalf("feed after create = %v, want [a b]", got)
	}

	var got place
	e.get(key, path).decode(t, http.StatusOK, &got)
	if got.ID != p.ID || got.Name != "Louvre" {
		t.Errorf("GET = %+v", got)
	}

	steps := []struct {
		name   string
		patch  map[string]any
		check  func(place) bool
		feed   []string
		status int
	}{
		{"rename", map[string]any{"name": "Musée du Louvre"},
			func(q place) bool { return q.Name == "Musée du Louvre" && q.Category == "museum" && q.Center != nil }, []string{"a", "b"}, http.StatusOK},
		{"null members are unchanged", map[string]any{"name": nil, "groups": nil},
			func(q place) bool { return q.Name == "Musée du Louvre" && len(q.Groups) == 2 }, []string{"a", "b"}, http.StatusOK},
		{"move to the Eiffel tower", map[string]any{"center": eiffel},
			func(q place) bool { return *q.Center == eiffel && *q.RadiusM == 200 }, []string{"far"}, http.StatusOK},
		{"become a geofence", map[string]any{"geometry": squareJSON(louvre, 0.005)},
			func(q place) bool {
				return q.Center == nil && q.RadiusM == nil && strings.Contains(string(q.Geometry), "Polygon")
			}, []string{"a", "b"}, http.StatusOK},
		{"bad shape changes nothing", map[string]any{"radius_m": 100},
			nil, []string{"a", "b"}, http.StatusBadRequest},
		{"back to a venue", map[string]any{"center": louvre, "radius_m": 50},
			func(q place) bool { return *q.Center == louvre && string(q.Geometry) == "null" }, []string{"a", "b"}, http.StatusOK},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			res := e.send(http.MethodPatch, key, path, st.patch)
			if st.status != http.StatusOK {
				res.wantError(t, st.status, geopulse.EINVALID, geopulse.ReasonInvalidGeometry)
			} else {
				var q place
				res.decode(t, http.StatusOK, &q)
				if !st.check(q) {
					t.Errorf("after patch: %+v", q)
				}
			}
			if got := feedOf(); !slices.Equal(got, st.feed) {
				t.Errorf("feed = %v, want %v", got, st.feed)
			}
		})
	}

	e.do(request{method: http.MethodDelete, path: path, key: key}).decode(t, http.StatusNoContent, nil)
	e.get(key, path).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
	e.do(request{method: http.MethodDelete, path: path, key: key}).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
	e.send(http.MethodPatch, key, path, map[string]any{"name": "x"}).wantError(t, http.StatusNotFound, geopulse.ENOTFOUND, "")
	if got := e.feedIDs(key, ""); len(got) != 0 {
		t.Errorf("feed after delete = %v", got)
	}
}

func TestCreatePlaceInvalid(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	bowtie := `{"type":"Polygon","coordinates":[[[0,0],[1,1],[1,0],[0,1],[0,0]]]}`
	tests := []struct {
		name, body, reason string
	}{
		{"no name", `{"center":{"lat":48.86,"lon":2.33},"radius_m":100}`, geopulse.ReasonMissingField},
		{"no shape", `{"name":"x"}`, geopulse.ReasonInvalidGeometry},
		{"both shapes", `{"name":"x","center":{"lat":48.86,"lon":2.33},"radius_m":100,"geometry":` + string(squareJSON(louvre, 0.01)) + `}`, geopulse.ReasonInvalidGeometry},
		{"zero radius", `{"name":"x","center":{"lat":48.86,"lon":2.33},"radius_m":0}`, geopulse.ReasonInvalidGeometry},
		{"center out of range", `{"name":"x","center":{"lat":100,"lon":2.33},"radius_m":100}`, geopulse.ReasonInvalidCoordinates},
		{"self-intersecting", `{"name":"x","geometry":` + bowtie + `}`, geopulse.ReasonInvalidGeometry},
		{"workspace in the body", `{"name":"x","workspace_id":2,"center":{"lat":48.86,"lon":2.33},"radius_m":100}`, geopulse.ReasonInvalidField},
		{"wrong type", `{"name":7}`, geopulse.ReasonInvalidField},
		{"malformed", `{"name":"x"`, geopulse.ReasonMalformedJSON},
		{"name too long", `{"name":"` + strings.Repeat("n", 201) + `","center":{"lat":48.86,"lon":2.33},"radius_m":100}`, geopulse.ReasonTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.send(http.MethodPost, key, "/v1/places", []byte(tt.body)).wantError(t, http.StatusBadRequest, geopulse.EINVALID, tt.reason)
		})
	}
	var pl struct{ Places []place }
	e.get(key, "/v1/places").decode(t, http.StatusOK, &pl)
	if len(pl.Places) != 0 {
		t.Errorf("invalid places were stored: %+v", pl.Places)
	}
}

func TestFindPlaces(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	a := e.createVenue(key, "A", louvre, "paris")
	b := e.createVenue(key, "B", eiffel, "paris", "towers")
	var c place
	e.send(http.MethodPost, key, "/v1/places", map[string]any{"name": "C", "category": "park", "geometry": squareJSON(geopulse.LatLon{Lat: 48.85, Lon: 2.35}, 0.002)}).
		decode(t, http.StatusCreated, &c)

	tests := []struct {
		query string
		want  []int64
	}{
		{"", []int64{a.ID, b.ID, c.ID}},
		{"?group=paris", []int64{a.ID, b.ID}},
		{"?group=towers", []int64{b.ID}},
		{"?category=park", []int64{c.ID}},
		{"?category=museum&group=towers", []int64{b.ID}},
		{"?group=none", nil},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			var pl struct{ Places []place }
			e.get(key, "/v1/places"+tt.query).decode(t, http.StatusOK, &pl)
			var got []int64
			for _, p := range pl.Places {
				got = append(got, p.ID)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("places = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestImportPlaces(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	e.ingest(key, newPost("in", louvre, 1))
	fc := `{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"Louvre area","category":"museum","groups":["paris"]},"geometry":` + string(squareJSON(louvre, 0.003)) + `},
		{"type":"Feature","properties":{"category":"nameless"},"geometry":{"type":"Point","coordinates":[2.29,48.85]}},
		{"type":"Feature","properties":{"name":"Eiffel","radius_m":150},"geometry":{"type":"Point","coordinates":[2.2945,48.8584]}},
		{"type":"Feature","properties":{"name":"A line"},"geometry":{"type":"LineString","coordinates":[[2,48],[3,49]]}}
	]}`
	var res struct {
		Created, Rejected int
		Items             []batchItem
	}
	e.do(request{method: http.MethodPost, path: "/v1/places/import", key: key, body: []byte(fc),
		header: map[string]string{"Content-Type": "application/geo+json"}}).decode(t, http.StatusOK, &res)
	if res.Created != 2 || res.Rejected != 2 || len(res.Items) != 4 {
		t.Fatalf("import = %+v", res)
	}
	want := []struct{ status, reason string }{
		{"created", ""}, {"rejected", geopulse.ReasonMissingField}, {"created", ""}, {"rejected", geopulse.ReasonInvalidGeometry},
	}
	for i, it := range res.Items {
		if it.Index != i || it.Status != want[i].status || it.Reason != want[i].reason {
			t.Errorf("item %d = %+v, want %+v", i, it, want[i])
		}
		var id int64
		if it.Status == "created" && json.Unmarshal(it.ID, &id) != nil {
			t.Errorf("item %d: place id %s is not a number", i, it.ID)
		}
	}

	var pl struct{ Places []place }
	e.get(key, "/v1/places").decode(t, http.StatusOK, &pl)
	if len(pl.Places) != 2 || pl.Places[0].Name != "Louvre area" || pl.Places[1].Name != "Eiffel" || *pl.Places[1].RadiusM != 150 {
		t.Errorf("places = %+v", pl.Places)
	}
	if got := e.feedIDs(key, fmt.Sprintf("place=%d", pl.Places[0].ID)); !slices.Equal(got, []string{"in"}) {
		t.Errorf("imported geofence's feed = %v, want [in]", got)
	}

	bad := []struct{ name, body, reason string }{
		{"not a feature collection", `{"type":"Feature"}`, geopulse.ReasonInvalidField},
		{"not JSON", `{"type":`, geopulse.ReasonMalformedJSON},
		{"wrong media type", ``, "invalid_content_type"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			ct := "application/json"
			if tt.reason == "invalid_content_type" {
				ct = "text/csv"
			}
			e.do(request{method: http.MethodPost, path: "/v1/places/import", key: key, body: []byte(tt.body),
				header: map[string]string{"Content-Type": ct}}).wantError(t, http.StatusBadRequest, geopulse.EINVALID, tt.reason)
		})
	}
}

// TestImportPlacesSensitive: properties.sensitive marks an imported place as a
// sensitive area, and a value that is not a boolean rejects only its feature.
func TestImportPlacesSensitive(t *testing.T) {
	e := newEnv(t)
	key := e.workspace("acme")
	fc := `{"type":"FeatureCollection","features":[
		{"type":"Feature","properties":{"name":"Clinic grounds","sensitive":true},"geometry":` + string(squareJSON(louvre, 0.002)) + `},
		{"type":"Feature","properties":{"name":"Cafe","sensitive":false},"geometry":{"type":"Point","coordinates":[2.29,48.85]}},
		{"type":"Feature","properties":{"name":"Shelter","sensitive":"yes"},"geometry":{"type":"Point","coordinates":[2.30,48.86]}}
	]}`
	var res struct {
		Created, Rejected int
		Items             []batchItem
	}
	e.do(request{method: http.MethodPost, path: "/v1/places/import", key: key, body: []byte(fc),
		header: map[string]string{"Content-Type": "application/geo+json"}}).decode(t, http.StatusOK, &res)
	if res.Created != 2 || res.Rejected != 1 || len(res.Items) != 3 {
		t.Fatalf("import = %+v", res)
	}
	if it := res.Items[2]; it.Status != "rejected" || it.Reason != geopulse.ReasonInvalidField || !strings.Contains(it.Message, "properties.sensitive") {
		t.Errorf("item 2 = %+v, want rejected for properties.sensitive", it)
	}

	var pl struct {
		Places []struct {
			Name      string `json:"name"`
			Sensitive bool   `json:"sensitive"`
		}
	}
	e.get(key, "/v1/places").decode(t, http.StatusOK, &pl)
	got := map[string]bool{}
	for _, p := range pl.Places {
		got[p.Name] = p.Sensitive
	}
	if want := map[string]bool{"Clinic grounds": true, "Cafe": false}; !maps.Equal(got, want) {
		t.Errorf("places' sensitive = %v, want %v", got, want)
	}
}
