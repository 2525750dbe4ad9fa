package geo

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/geopulse/geopulse"
)

// city is a real urban centre; the test world and the benchmark put their
// places and points around these.
type city struct {
	name     string
	lat, lon float64
}

var testCities = []city{
	{"London", 51.5074, -0.1278}, {"Paris", 48.8566, 2.3522}, {"Berlin", 52.52, 13.405},
	{"Madrid", 40.4168, -3.7038}, {"Rome", 41.9028, 12.4964}, {"Istanbul", 41.0082, 28.9784},
	{"Moscow", 55.7558, 37.6173}, {"Cairo", 30.0444, 31.2357}, {"Lagos", 6.5244, 3.3792},
	{"Nairobi", -1.2921, 36.8219}, {"Johannesburg", -26.2041, 28.0473}, {"Dubai", 25.2048, 55.2708},
	{"Mumbai", 19.076, 72.8777}, {"Delhi", 28.7041, 77.1025}, {"Bangkok", 13.7563, 100.5018},
	{"Singapore", 1.3521, 103.8198}, {"Jakarta", -6.2088, 106.8456}, {"Hong Kong", 22.3193, 114.1694},
	{"Shanghai", 31.2304, 121.4737}, {"Seoul", 37.5665, 126.978}, {"Tokyo", 35.6762, 139.6503},
	{"Sydney", -33.8688, 151.2093}, {"Auckland", -36.8485, 174.7633}, {"Los Angeles", 34.0522, -118.2437},
	{"Mexico City", 19.4326, -99.1332}, {"Chicago", 41.8781, -87.6298}, {"New York", 40.7128, -74.006},
	{"Toronto", 43.6532, -79.3832}, {"São Paulo", -23.5505, -46.6333}, {"Buenos Aires", -34.6037, -58.3816},
}

// highLatCities exercise the cos(lat) longitude scaling.
var highLatCities = []city{
	{"Tromsø", 69.6492, 18.9553}, {"Longyearbyen", 78.2232, 15.6267}, {"McMurdo", -77.8419, 166.6863},
	{"Ushuaia", -54.8019, -68.303},
}

// mPerDeg is metres per degree of latitude on the sphere used by the package.
const mPerDeg = EarthRadiusM * math.Pi / 180

// offset moves (lat, lon) by north/east metres (flat approximation, fine
// for test data a few kilometres across).
func offset(lat, lon, northM, eastM float64) (float64, float64) {
	return lat + northM/mPerDeg, lon + eastM/(mPerDeg*math.Cos(lat*math.Pi/180))
}

// destination is the exact great-circle point at distM along bearing (deg).
func destination(lat, lon, bearing, distM float64) (float64, float64) {
	phi1, l1, th, d := lat*degToRad, lon*degToRad, bearing*degToRad, distM/EarthRadiusM
	phi2 := math.Asin(math.Sin(phi1)*math.Cos(d) + math.Cos(phi1)*math.Sin(d)*math.Cos(th))
	l2 := l1 + math.Atan2(math.Sin(th)*math.Sin(d)*math.Cos(phi1), math.Cos(d)-math.Sin(phi1)*math.Sin(phi2))
	lon2 := math.Mod(l2*radToDeg+540, 360) - 180
	return phi2 * radToDeg, lon2
}

// starRing returns a closed star-shaped ring of n corners around (lat, lon)
// with radii in [0.5r, r]: always simple, and its inner 0.25r is free for a hole.
func starRing(rng *rand.Rand, lat, lon, r float64, n int, ccw bool) [][2]float64 {
	ring := make([][2]float64, 0, n+1)
	for i := range n {
		k := i
		if !ccw {
			k = n - i
		}
		th := 2*math.Pi*float64(k)/float64(n) + (rng.Float64()-0.5)*math.Pi/float64(n)
		rad := r * (0.5 + 0.5*rng.Float64())
		la, lo := offset(lat, lon, rad*math.Sin(th), rad*math.Cos(th))
		ring = append(ring, [2]float64{lo, la})
	}
	return append(ring, ring[0])
}

// polygonJSON encodes rings (outer first) as a GeoJSON Polygon.
func polygonJSON(rings ...[][2]float64) []byte {
	b, _ := json.Marshal(map[string]any{"type": "Polygon", "coordinates": rings})
	return b
}

// multiPolygonJSON encodes polygons as a GeoJSON MultiPolygon.
func multiPolygonJSON(polys ...[][][2]float64) []byte {
	b, _ := json.Marshal(map[string]any{"type": "MultiPolygon", "coordinates": polys})
	return b
}

// randomPlace makes a venue (50-500 m) or, one time in three, a small
// polygon, sometimes with a hole or as a two-part multipolygon.
func randomPlace(rng *rand.Rand, id int64, lat, lon float64) *geopulse.Place {
	p := &geopulse.Place{ID: id, Name: fmt.Sprintf("place %d", id)}
	if rng.IntN(3) != 0 {
		p.Center = &geopulse.LatLon{Lat: lat, Lon: lon}
		p.RadiusM = 50 + 450*rng.Float64()
		return p
	}
	r := 100 + 400*rng.Float64()
	n := 5 + rng.IntN(10)
	switch rng.IntN(4) {
	case 0:
		p.Geometry = polygonJSON(starRing(rng, lat, lon, r, n, true), starRing(rng, lat, lon, 0.25*r, 5, false))
	case 1:
		la2, lo2 := offset(lat, lon, 0, 3*r)
		p.Geometry = multiPolygonJSON(
			[][][2]float64{starRing(rng, lat, lon, r, n, true), starRing(rng, lat, lon, 0.25*r, 4, false)},
			[][][2]float64{starRing(rng, la2, lo2, r, n, false)})
	default:
		p.Geometry = polygonJSON(starRing(rng, lat, lon, r, n, rng.IntN(2) == 0))
	}
	return p
}

// testWorld returns n places spread around the given cities, roughly
// normally distributed around each centre (sigma sigmaM metres).
func testWorld(rng *rand.Rand, n int, cities []city, sigmaM float64) []*geopulse.Place {
	places := make([]*geopulse.Place, 0, n)
	for i := range n {
		c := cities[rng.IntN(len(cities))]
		lat, lon := offset(c.lat, c.lon, rng.NormFloat64()*sigmaM, rng.NormFloat64()*sigmaM)
		places = append(places, randomPlace(rng, int64(i+1), lat, lon))
	}
	return places
}

// requireReason fails unless err is a *geopulse.Error with Code EINVALID,
// the wanted reason and a message containing msg.
func requireReason(t *testing.T, err error, reason, msg string) {
	t.Helper()
	var ge *geopulse.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error = %v (%T), want *geopulse.Error with reason %q", err, err, reason)
	}
	if ge.Code != geopulse.EINVALID || ge.Reason != reason {
		t.Fatalf("error = %v, want code %q reason %q", ge, geopulse.EINVALID, reason)
	}
	if ge.Message == "" || !strings.Contains(ge.Message, msg) {
		t.Fatalf("message = %q, want it to contain %q", ge.Message, msg)
	}
}
