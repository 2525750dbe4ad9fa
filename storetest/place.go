package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// polygon is a GeoJSON square around (lat, lon), with odd spacing and key
// order so that a store that re-encodes it would be caught.
func polygon(lat, lon, d float64) json.RawMessage {
	c := [][]float64{{lon - d, lat - d}, {lon + d, lat - d}, {lon + d, lat + d}, {lon - d, lat + d}, {lon - d, lat - d}}
	b, _ := json.Marshal(c)
	return json.RawMessage(`{ "coordinates": [` + string(b) + `],  "type": "Polygon" }`)
}

func placeIDs(places []*geopulse.Place) []int64 {
	out := make([]int64, len(places))
	for i, p := range places {
		out[i] = p.ID
	}
	return out
}

func testPlace(t *testing.T, open opener) {
	t.Run("CreateAndFind", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		venue := &geopulse.Place{
			WorkspaceID: ws.ID, Name: "Café Zoë ☕", Category: "cafe", Brand: "Zoë",
			Groups: []string{"own", "paris"}, Center: &geopulse.LatLon{Lat: 48.8566, Lon: 2.3522}, RadiusM: 75.5,
			BBox: geopulse.BBox{MinLat: 48.85, MinLon: 2.35, MaxLat: 48.86, MaxLon: 2.36},
		}
		fence := &geopulse.Place{
			WorkspaceID: ws.ID, Name: "Stadium", Category: "stadium",
			Geometry: polygon(51.5, -0.1, 0.01),
			BBox:     geopulse.BBox{MinLat: 51.49, MinLon: -0.11, MaxLat: 51.51, MaxLon: -0.09},
		}
		for _, p := range []*geopulse.Place{venue, fence} {
			if err := e.s.CreatePlace(e.ctx, p); err != nil {
				t.Fatalf("create %q: %v", p.Name, err)
			}
		}
		if venue.ID <= 0 || fence.ID <= venue.ID {
			t.Fatalf("ids = %d, %d; want increasing positive", venue.ID, fence.ID)
		}
		if !venue.CreatedAt.Equal(t0) || !venue.UpdatedAt.Equal(t0) {
			t.Fatalf("timestamps = %v, %v; want %v", venue.CreatedAt, venue.UpdatedAt, t0)
		}
		for _, want := range []*geopulse.Place{venue, fence} {
			got, err := e.s.FindPlaceByID(e.ctx, ws.ID, want.ID)
			if err != nil {
				t.Fatal(err)
			}
			checkPlace(t, got, want)
		}
		got, _ := e.s.FindPlaceByID(e.ctx, ws.ID, fence.ID)
		if string(got.Geometry) != string(fence.Geometry) {
			t.Fatalf("geometry not kept byte for byte: %s", got.Geometry)
		}
	})

	t.Run("CreateErrors", func(t *testing.T) {
		e := newEnv(t, open)
		ws := e.workspace("acme")
		center := &geopulse.LatLon{Lat: 1, Lon: 2}
		tests := []struct {
			name  string
			place geopulse.Place
			code  string
		}{
			{"no shape", geopulse.Place{WorkspaceID: ws.ID, Name: "x"}, geopulse.EINVALID},
			{"both shapes", geopulse.Place{WorkspaceID: ws.ID, Name: "x", Center: center, RadiusM: 5, Geometry: polygon(1, 2, 0.1)}, geopulse.EINVALID},
			{"zero radius", geopulse.Place{WorkspaceID: ws.ID, Name: "x", Center: center}, geopulse.EINVALID},
			{"center out of range", geopulse.Place{WorkspaceID: ws.ID, Name: "x", Center: &geopulse.LatLon{Lat: 91}, RadiusM: 5}, geopulse.EINVALID},
			{"geometry not json", geopulse.Place{WorkspaceID: ws.ID, Name: "x", Geometry: json.RawMessage(`{"type":`)}, geopulse.EINVALID},
			{"no name", geopulse.Place{WorkspaceID: ws.ID, Center: center, RadiusM: 5}, geopulse.EINVALID},
			{"unknown workspace", geopulse.Place{WorkspaceID: 9999, Name: "x", Center: center, RadiusM: 5}, geopulse.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				p := tt.place
				wantCode(t, e.s.CreatePlace(e.ctx, &p), tt.code)
			})
		}
		if all, err := e.s.AllPlaces(e.ctx); err != nil || len(all) != 0 {
			t.Fatalf("rejected places were stored: %d, %v", len(all), err)
		}
	})

	t.Run("FindPlaces", func(t *testing.T) {
		e := newEnv(t, open)
		ws, other := e.workspace("acme"), e.workspace("other")
		a := e.venue(ws.ID, "a", 1, 1, 50, "own")
		b := e.venue(ws.ID, "b", 2, 2, 50, "competitors")
		c := e.venue(ws.ID, "c", 3, 3, 50, "own", "competitors")
		c2 := &geopulse.Place{WorkspaceID: ws.ID, Name: "d", Category: "bar", Geometry: polygon(4, 4, 0.01)}
		if err := e.s.CreatePlace(e.ctx, c2); err != nil {
			t.Fatal(err)
		}
		x := e.venue(other.ID, "x", 1, 1, 50, "own")
		tests := []struct {
			name   string
			filter geopulse.PlaceFilter
			want   []int64
		}{
			{"all of workspace", geopulse.PlaceFilter{WorkspaceID: ws.ID}, []int64{a.ID, b.ID, c.ID, c2.ID}},
			{"other workspace", geopulse.PlaceFilter{WorkspaceID: other.ID}, []int64{x.ID}},
			{"ids", geopulse.PlaceFilter{WorkspaceID: ws.ID, IDs: []int64{c.ID, a.ID}}, []int64{a.ID, c.ID}},
			{"ids of another workspace", geopulse.PlaceFilter{WorkspaceID: ws.ID, IDs: []int64{x.ID}}, nil},
			{"group", geopulse.PlaceFilter{WorkspaceID: ws.ID, Group: "competitors"}, []int64{b.ID, c.ID}},
			{"category", geopulse.PlaceFilter{WorkspaceID: ws.ID, Category: "bar"}, []int64{c2.ID}},
			{"group and ids", geopulse.PlaceFilter{WorkspaceID: ws.ID, Group: "own", IDs: []int64{b.ID, c.ID}}, []int64{c.ID}},
			{"unknown group", geopulse.PlaceFilter{WorkspaceID: ws.ID, Group: "nope"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := e.s.FindPlaces(e.ctx, tt.filter)
				if err != nil {
					t.Fatal(err)
				}
				if g := placeIDs(got); !slices.Equal(g, tt.want) && !(len(g) == 0 && len(tt.want) == 0) {
					t.Fatalf("ids = %v, want %v", g, tt.want)
				}
			})
		}
		all, err := e.s.AllPlaces(e.ctx)
		if err != nil {
			t.Fatal(err)
		}
		if g, want := placeIDs(all), []int64{a.ID, b.ID, c.ID, c2.ID, x.ID}; !slices.Equal(g, want) {
			t.Fatalf("all places = %v, want %v", g, want)
		}
		checkPlace(t, all[0], a)
	})

	t.Run("FindPlaceByIDScoped", func(t *testing.T) {
		e := newEnv(t, open)
		ws, other := e.workspace("acme"), e.workspace("other")
		x := e.venue(other.ID, "x", 1, 1, 50)
		_, err := e.s.FindPlaceByID(e.ctx, ws.ID, x.ID)
		wantCode(t, err, geopulse.ENOTFOUND)
		_, err = e.s.FindPlaceByID(e.ctx, ws.ID, 424242)
		wantCode(t, err, geopulse.ENOTFOUND)
	})

	t.Run("UpdatePlace", func(t *testing.T) {
		name, category, brand := "Renamed ✨", "bar", "Brand"
		groups, noGroups := []string{"g1", "g2"}, []string{}
		center := geopulse.LatLon{Lat: 10, Lon: 20}
		radius := 120.0
		geometry := polygon(5, 5, 0.02)
		tests := []struct {
			name  string
			start string // "venue" or "fence"
			upd   geopulse.PlaceUpdate
			apply func(p *geopulse.Place)
		}{
			{"nothing", "venue", geopulse.PlaceUpdate{}, func(p *geopulse.Place) {}},
			{"name only", "venue", geopulse.PlaceUpdate{Name: &name}, func(p *geopulse.Place) { p.Name = name }},
			{"category and brand", "venue", geopulse.PlaceUpdate{Category: &category, Brand: &brand},
				func(p *geopulse.Place) { p.Category, p.Brand = category, brand }},
			{"groups", "venue", geopulse.PlaceUpdate{Groups: &groups}, func(p *geopulse.Place) { p.Groups = groups }},
			{"clear groups", "venue", geopulse.PlaceUpdate{Groups: &noGroups}, func(p *geopulse.Place) { p.Groups = nil }},
			{"move venue", "venue", geopulse.PlaceUpdate{Center: &center, RadiusM: &radius},
				func(p *geopulse.Place) { p.Center, p.RadiusM = &center, radius }},
			{"radius only", "venue", geopulse.PlaceUpdate{RadiusM: &radius}, func(p *geopulse.Place) { p.RadiusM = radius }},
			{"venue to fence", "venue", geopulse.PlaceUpdate{Geometry: &geometry},
				func(p *geopulse.Place) { p.Center, p.RadiusM, p.Geometry = nil, 0, geometry }},
			{"fence to venue", "fence", geopulse.PlaceUpdate{Center: &center, RadiusM: &radius},
				func(p *geopulse.Place) { p.Center, p.RadiusM, p.Geometry = &center, radius, nil }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				e := newEnv(t, open)
				ws := e.workspace("acme")
				var p *geopulse.Place
				if tt.start == "venue" {
					p = e.venue(ws.ID, "v", 1, 1, 50, "own")
				} else {
					p = &geopulse.Place{WorkspaceID: ws.ID, Name: "f", Category: "park", Geometry: polygon(1, 1, 0.01),
						BBox: geopulse.BBox{MinLat: 0.99, MinLon: 0.99, MaxLat: 1.01, MaxLon: 1.01}}
					if err := e.s.CreatePlace(e.ctx, p); err != nil {
						t.Fatal(err)
					}
				}
				e.clock.Set(t0.Add(time.Hour))
				want := *p
				tt.apply(&want)
				want.UpdatedAt = t0.Add(time.Hour)
				got, err := e.s.UpdatePlace(e.ctx, ws.ID, p.ID, tt.upd)
				if err != nil {
					t.Fatal(err)
				}
				checkPlace(t, got, &want)
				found, err := e.s.FindPlaceByID(e.ctx, ws.ID, p.ID)
				if err != nil {
					t.Fatal(err)
				}
				checkPlace(t, found, &want)
			})
		}
	})

	t.Run("UpdatePlaceErrors", func(t *testing.T) {
		e := newEnv(t, open)
		ws, other := e.workspace("acme"), e.workspace("other")
		p := e.venue(ws.ID, "v", 1, 1, 50)
		x := e.venue(other.ID, "x", 1, 1, 50)
		center := geopulse.LatLon{Lat: 1, Lon: 1}
		geometry := polygon(1, 1, 0.01)
		empty, zero, bad := "", 0.0, json.RawMessage(`[`)
		tests := []struct {
			name string
			id   int64
			upd  geopulse.PlaceUpdate
			code string
		}{
			{"missing", 9999, geopulse.PlaceUpdate{Name: &empty}, geopulse.ENOTFOUND},
			{"other workspace", x.ID, geopulse.PlaceUpdate{}, geopulse.ENOTFOUND},
			{"both shapes", p.ID, geopulse.PlaceUpdate{Center: &center, Geometry: &geometry}, geopulse.EINVALID},
			{"empty name", p.ID, geopulse.PlaceUpdate{Name: &empty}, geopulse.EINVALID},
			{"zero radius", p.ID, geopulse.PlaceUpdate{RadiusM: &zero}, geopulse.EINVALID},
			{"bad geometry", p.ID, geopulse.PlaceUpdate{Geometry: &bad}, geopulse.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				_, err := e.s.UpdatePlace(e.ctx, ws.ID, tt.id, tt.upd)
				wantCode(t, err, tt.code)
			})
		}
		got, err := e.s.FindPlaceByID(e.ctx, ws.ID, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkPlace(t, got, p)
	})

	t.Run("DeletePlace", func(t *testing.T) {
		e := newEnv(t, open)
		ws, other := e.workspace("acme"), e.workspace("other")
		a := e.venue(ws.ID, "a", 1, 1, 50)
		b := e.venue(ws.ID, "b", 1, 1, 80)
		x := e.venue(other.ID, "x", 1, 1, 50)
		au := author("insta", "ann", 10)
		e.upsert(newPost("insta", "p1", t0, 1, 1, au, a.ID, b.ID, x.ID), newPost("insta", "p2", t0, 1, 1, au, a.ID))

		wantCode(t, e.s.DeletePlace(e.ctx, ws.ID, x.ID), geopulse.ENOTFOUND)
		wantCode(t, e.s.DeletePlace(e.ctx, ws.ID, 9999), geopulse.ENOTFOUND)
		if err := e.s.DeletePlace(e.ctx, ws.ID, a.ID); err != nil {
			t.Fatal(err)
		}
		_, err := e.s.FindPlaceByID(e.ctx, ws.ID, a.ID)
		wantCode(t, err, geopulse.ENOTFOUND)
		wantCode(t, e.s.DeletePlace(e.ctx, ws.ID, a.ID), geopulse.ENOTFOUND)

		// p1 is still in b; p2 was only in a, so the workspace no longer sees it.
		posts := e.feedAll(geopulse.PostFilter{WorkspaceID: ws.ID})
		if g := ids(posts); !slices.Equal(g, []string{"p1"}) {
			t.Fatalf("feed after delete = %v, want [p1]", g)
		}
		if !slices.Equal(posts[0].PlaceIDs, []int64{b.ID}) {
			t.Fatalf("place ids = %v, want [%d]", posts[0].PlaceIDs, b.ID)
		}
		_, err = e.s.FindPostByID(e.ctx, ws.ID, geopulse.PostID("insta", "p2"))
		wantCode(t, err, geopulse.ENOTFOUND)
		if _, err := e.s.FindPlaceByID(e.ctx, other.ID, x.ID); err != nil {
			t.Fatalf("other workspace's place: %v", err)
		}
		stats, err := e.s.Analytics(e.ctx, geopulse.AnalyticsFilter{WorkspaceID: ws.ID})
		if err != nil {
			t.Fatal(err)
		}
		if stats.Posts != 1 || len(stats.Places) != 1 || stats.Places[0].PlaceID != b.ID {
			t.Fatalf("analytics after delete: posts %d, places %+v", stats.Posts, stats.Places)
		}
	})
}
