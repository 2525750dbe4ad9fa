package mastodon

import (
	"math"
	"net/url"
	"strconv"
	"strings"

	"github.com/geopulse/geopulse"
)

type location struct {
	lat, lon, accuracyM float64
	from                geopulse.LocationFrom
}

// findLocation returns the first location found in the candidates, each a
// link target or a text (see the package doc for what counts).
func findLocation(candidates []string) (location, bool) {
	for _, s := range candidates {
		if loc, ok := locationIn(s); ok {
			return loc, true
		}
	}
	return location{}, false
}

// locationIn scans one text for geo: URIs and OpenStreetMap links, in
// order, and returns the first usable one.
func locationIn(s string) (location, bool) {
	lower := strings.ToLower(s)
	for i := 0; i < len(lower); {
		g := strings.Index(lower[i:], "geo:")
		o := strings.Index(lower[i:], "openstreetmap.org")
		if g < 0 && o < 0 {
			break
		}
		if g >= 0 && (o < 0 || g < o) {
			at := i + g
			i = at + len("geo:")
			// "geo:" inside a word (e.g. "ageo:") is not a URI scheme.
			if at > 0 && isWordByte(lower[at-1]) {
				continue
			}
			if loc, ok := geoURI(token(s[i:])); ok {
				return loc, true
			}
			continue
		}
		at := i + o
		i = at + len("openstreetmap.org")
		if at > 0 && lower[at-1] != '.' && lower[at-1] != '/' {
			continue
		}
		if loc, ok := osmLink(token(s[i:])); ok {
			return loc, true
		}
	}
	return location{}, false
}

// token returns s up to the first character that cannot be in a URL,
// without the punctuation that ends a sentence around a link.
func token(s string) string {
	if end := strings.IndexAny(s, " \t\r\n\"'<>"); end >= 0 {
		s = s[:end]
	}
	return strings.TrimRight(s, ".,;:!?)]}")
}

func isWordByte(c byte) bool {
	return c == '_' || c == '-' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9'
}

// geoURI parses what follows "geo:" in an RFC 5870 URI:
// lat,lon[,alt][;crs=wgs84][;u=metres][?query].
func geoURI(s string) (location, bool) {
	s, _, _ = strings.Cut(s, "?")
	coords, params, _ := strings.Cut(s, ";")
	parts := strings.Split(coords, ",")
	if len(parts) < 2 || len(parts) > 3 {
		return location{}, false
	}
	lat, err1 := strconv.ParseFloat(parts[0], 64)
	lon, err2 := strconv.ParseFloat(parts[1], 64)
	if err1 != nil || err2 != nil || !valid(lat, lon) || (lat == 0 && lon == 0) {
		return location{}, false
	}
	loc := location{lat: lat, lon: lon, from: geopulse.LocationPoint}
	for _, p := range strings.Split(params, ";") {
		k, v, _ := strings.Cut(strings.ToLower(p), "=")
		switch k {
		case "crs":
			if v != "wgs84" {
				return location{}, false // another reference system: not degrees on WGS 84
			}
		case "u":
			if u, err := strconv.ParseFloat(v, 64); err == nil && u >= 0 && u < maxAccuracyM {
				loc.accuracyM = u
			}
		}
	}
	return loc, true
}

// maxAccuracyM keeps a world-wide view under the gate's limit of 10,000 km.
const maxAccuracyM = 9_990_000

// osmLink parses what follows "openstreetmap.org" in a link: a marker
// (?mlat=&mlon=) or a view (#map=zoom/lat/lon, or ?lat=&lon=&zoom=).
func osmLink(s string) (location, bool) {
	u, err := url.Parse("https://www.openstreetmap.org" + s)
	if err != nil {
		return location{}, false
	}
	q := u.Query()
	if lat, lon, ok := latLon(q.Get("mlat"), q.Get("mlon")); ok {
		return location{lat: lat, lon: lon, from: geopulse.LocationPoint}, true
	}
	if view, ok := strings.CutPrefix(u.Fragment, "map="); ok {
		view, _, _ = strings.Cut(view, "&")
		if parts := strings.Split(view, "/"); len(parts) == 3 {
			if loc, ok := centroid(parts[0], parts[1], parts[2]); ok {
				return loc, true
			}
		}
	}
	return centroid(q.Get("zoom"), q.Get("lat"), q.Get("lon"))
}

func centroid(zoom, lat, lon string) (location, bool) {
	z, err := strconv.Atoi(zoom)
	la, lo, ok := latLon(lat, lon)
	if err != nil || !ok || z < 0 || z > 22 {
		return location{}, false
	}
	// Half the width of a 1024-pixel view: two 256-pixel tiles at the
	// equator.
	acc := min(2*equatorM/math.Exp2(float64(z)), maxAccuracyM)
	return location{lat: la, lon: lo, accuracyM: acc, from: geopulse.LocationCentroid}, true
}

// equatorM is the length of the equator in metres (WGS 84).
const equatorM = 40_075_016.686

func latLon(lat, lon string) (float64, float64, bool) {
	la, err1 := strconv.ParseFloat(lat, 64)
	lo, err2 := strconv.ParseFloat(lon, 64)
	if err1 != nil || err2 != nil || !valid(la, lo) || (la == 0 && lo == 0) {
		return 0, 0, false
	}
	return la, lo, true
}

func valid(lat, lon float64) bool {
	return lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180
}
