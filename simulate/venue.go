package simulate

import (
	"math"
	"strconv"
	"strings"

	"github.com/geopulse/geopulse"
)

// metresPerDegree is the length of a degree of latitude (and of longitude at
// the equator). Venue shapes are laid out in local metres and converted with
// one fixed scale per venue: an affine map, so a shape that is simple and
// star-shaped in metres stays so in degrees, as planar matchers see it.
const metresPerDegree = 111_320.0

// maxCityRadiusM bounds how far a venue lies from its city centre; beaches
// are the exception, since they are where the coast is.
const maxCityRadiusM = 15_000

type venue struct {
	name   string
	cat    int
	brand  *brand
	groups []string
	city   int
	lat    float64
	lon    float64
	cosLat float64
	// radius is a point venue's radius; 0 for a polygon.
	radius float64
	// inner is the radius around (lat, lon) inside which posts land: within
	// radius for a point, within the polygon's inscribed disc for a polygon.
	inner    float64
	geometry []byte
	bbox     geopulse.BBox
	// handle is the account posts mention ("starbucks"); "" if it has none.
	handle string
	pop    float64
}

func (w *World) buildVenues(n int) {
	counts := w.venueCounts(n)
	taken := make(map[string]bool, n)
	w.venues = make([]venue, 0, n)
	for ci := range w.cities {
		cs := &w.cities[ci]
		d := cs.data
		var perCat [numCats]int
		beachesUsed := 0
		for j := range counts[ci] {
			cat := -1
			if j < len(essentials) {
				cat = essentials[j]
				if cat == catBar && d.pubs {
					cat = catPub
				}
			} else {
				var ws [numCats]float64
				for c := range categoryTable {
					ws[c] = w.categoryWeight(d, c, perCat[c])
				}
				cat = w.rng.pick(ws[:])
			}
			perCat[cat]++
			v := w.newVenue(ci, cat, &beachesUsed, taken)
			cs.byCat[cat] = append(cs.byCat[cat], int32(len(w.venues)))
			w.venues = append(w.venues, v)
		}
		for c := range cs.byCat {
			ws := make([]float64, len(cs.byCat[c]))
			for i, vi := range cs.byCat[c] {
				ws[i] = w.venues[vi].pop
			}
			cs.catPick[c] = newAlias(ws)
		}
	}
}

// categoryWeight is how likely the next venue of a city is of category c,
// given how many it already has.
func (w *World) categoryWeight(d *cityData, c, have int) float64 {
	cat := &categoryTable[c]
	switch {
	case c == catPub && !d.pubs:
		return 0
	case (c == catBeach || c == catBeachResort) && len(d.beaches) == 0:
		return 0
	case c == catBeach && have >= len(d.beaches):
		return 0
	case cat.maxPerCity > 0 && have >= cat.maxPerCity:
		return 0
	}
	return cat.weight
}

// venueCounts shares n venues between cities by weight (largest remainder),
// giving every city a couple first when there are enough to go round.
func (w *World) venueCounts(n int) []int {
	nc := len(w.cities)
	counts := make([]int, nc)
	base := min(2, n/nc)
	rest := n - base*nc
	total := w.cityPick[nc-1]
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, nc)
	given := 0
	for i := range counts {
		wt := w.cityPick[i]
		if i > 0 {
			wt -= w.cityPick[i-1]
		}
		exact := float64(rest) * wt / total
		counts[i] = base + int(exact)
		given += int(exact)
		rems[i] = rem{i, exact - math.Floor(exact)}
	}
	// Hand out the remainder to the largest fractions; ties go to the
	// better-known city (lower index), which keeps this deterministic.
	for left := rest - given; left > 0; left-- {
		best := -1
		for i, r := range rems {
			if best < 0 || r.r > rems[best].r {
				best = i
			}
		}
		counts[rems[best].i]++
		rems[best].r = -1
	}
	return counts
}

func (w *World) newVenue(ci, cat int, beachesUsed *int, taken map[string]bool) venue {
	g := w.rng
	cs := &w.cities[ci]
	d := cs.data
	ct := &categoryTable[cat]
	v := venue{cat: cat, city: ci, pop: g.lognormal(1, 0.8)}

	areaName := ""
	switch cat {
	case catBeach:
		b := d.beaches[*beachesUsed]
		*beachesUsed++
		v.lat, v.lon = b.lat, b.lon
		areaName = b.name
		v.pop *= 3
	case catBeachResort:
		b := d.beaches[g.intn(len(d.beaches))]
		v.lat, v.lon = offset(b.lat, b.lon, 250*g.norm(), 250*g.norm())
		areaName = b.name
	default:
		ai := 0
		if len(d.areas) > 1 && !g.chance(0.35) {
			ai = 1 + g.intn(len(d.areas)-1)
		}
		a := d.areas[ai]
		areaName = a.name
		spread := 600.0
		if cat == catStadium || cat == catZoo || cat == catFurniture || cat == catCarShop {
			spread = 2500 // big sites sit outside the centre
		}
		dx, dy := spread*g.norm(), spread*g.norm()
		lat, lon := offset(a.lat, a.lon, dx, dy)
		if dist := haversine(d.lat, d.lon, lat, lon); dist > maxCityRadiusM {
			lat, lon = a.lat, a.lon
		}
		v.lat, v.lon = lat, lon
	}
	v.cosLat = math.Cos(v.lat * math.Pi / 180)

	// Brand: only chains that trade in the city's country.
	if ct.brandProb > 0 && g.chance(ct.brandProb) {
		var cands []*brand
		var ws []float64
		for i := range brandTable {
			b := &brandTable[i]
			if b.cat == cat && trades(b, d.country) {
				cands = append(cands, b)
				ws = append(ws, b.weight)
			}
		}
		if len(cands) > 0 {
			v.brand = cands[g.pick(ws)]
			v.pop *= 1.5
		}
	}
	v.name = w.venueName(&v, d, areaName, taken)
	taken[v.name] = true

	switch {
	case v.brand != nil:
		v.handle = v.brand.handle
	case cat == catBeach || cat == catPark || cat == catPlayground || cat == catDogPark || cat == catViewpoint:
		// Public spaces rarely have an account of their own.
	case g.chance(0.6):
		v.handle = slug(v.name, 30)
	}

	v.groups = []string{ct.group, d.name}
	if v.brand != nil {
		v.groups = append(v.groups, v.brand.name)
		if cat == catCafe {
			v.groups = append(v.groups, "competitors")
		}
	}

	r := g.between(ct.minR, ct.maxR)
	if ct.polygon {
		v.geometry, v.inner, v.bbox = polygon(g, cat, v.lat, v.lon, v.cosLat, r)
		if cat == catStadium {
			v.pop *= 3
		}
	} else {
		v.radius = math.Round(r)
		v.inner = v.radius
		dLat := v.radius / metresPerDegree
		dLon := v.radius / (metresPerDegree * v.cosLat)
		v.bbox = geopulse.BBox{MinLat: v.lat - dLat, MinLon: v.lon - dLon, MaxLat: v.lat + dLat, MaxLon: v.lon + dLon}
	}
	return v
}

func trades(b *brand, country string) bool {
	if b.countries == nil {
		return true
	}
	for _, c := range b.countries {
		if c == country {
			return true
		}
	}
	return false
}

// venueName names a venue like its real counterparts ("Starbucks Soho",
// "Hilton London Canary Wharf", "The Red Lion"), unique in the world.
func (w *World) venueName(v *venue, d *cityData, areaName string, taken map[string]bool) string {
	g := w.rng
	ct := &categoryTable[v.cat]
	var name string
	for try := 0; try < 6; try++ {
		switch {
		case v.cat == catBeach:
			name = areaName
		case v.brand != nil && v.cat == catHotel:
			name = v.brand.name + " " + d.name + " " + areaName
		case v.brand != nil:
			name = v.brand.name + " " + areaName
		default:
			name = expand(ct.names[g.intn(len(ct.names))], g, d.name, areaName)
		}
		if !taken[name] {
			return name
		}
		if v.cat == catBeach || v.brand != nil {
			break // these do not vary on a retry
		}
	}
	for _, s := range nameSuffixes {
		if n := name + " " + s; !taken[n] {
			return n
		}
	}
	for i := 2; ; i++ {
		if n := name + " " + strconv.Itoa(i); !taken[n] {
			return n
		}
	}
}

// expand fills a name template.
func expand(tmpl string, g *rng, city, areaName string) string {
	var b strings.Builder
	for i := 0; i < len(tmpl); i++ {
		if tmpl[i] != '{' || i+2 >= len(tmpl) || tmpl[i+2] != '}' {
			b.WriteByte(tmpl[i])
			continue
		}
		switch tmpl[i+1] {
		case 'A':
			b.WriteString(areaName)
		case 'C':
			b.WriteString(city)
		case 'J':
			b.WriteString(nameAdjectives[g.intn(len(nameAdjectives))])
		case 'N':
			b.WriteString(nameNouns[g.intn(len(nameNouns))])
		case 'P':
			b.WriteString(namePeople[g.intn(len(namePeople))])
		case 'T':
			b.WriteString(nameTopics[g.intn(len(nameTopics))])
		}
		i += 2
	}
	return b.String()
}

// polygon draws a small simple polygon around (lat, lon) of mean half-size r
// metres: an irregular ellipse (elongated for a beach) whose vertices go
// round the centre in angular order, so it is star-shaped about the centre
// and cannot self-intersect. It returns the GeoJSON, the radius of the disc
// about the centre that lies inside it, and its bounding box.
func polygon(g *rng, cat int, lat, lon, cosLat, r float64) ([]byte, float64, geopulse.BBox) {
	n := 10 + g.intn(6)
	a, b := r, r*g.between(0.55, 0.95)
	jitter := 0.2
	switch cat {
	case catStadium:
		b, jitter = r*0.78, 0.03
	case catBeach:
		b = r * g.between(0.18, 0.3)
	}
	rot := g.float() * math.Pi
	step := 2 * math.Pi / float64(n)
	xs := make([]float64, n)
	ys := make([]float64, n)
	for i := range n {
		theta := step*float64(i) + step*0.3*(2*g.float()-1)
		phi := theta - rot
		sin, cos := math.Sincos(phi)
		er := a * b / math.Sqrt(b*b*cos*cos+a*a*sin*sin)
		rad := er * (1 - jitter*g.float())
		sin, cos = math.Sincos(theta)
		xs[i], ys[i] = rad*cos, rad*sin
	}
	inner := math.Inf(1)
	for i := range n {
		j := (i + 1) % n
		inner = math.Min(inner, segmentDistance(xs[i], ys[i], xs[j], ys[j]))
	}

	bbox := geopulse.BBox{MinLat: 90, MinLon: 180, MaxLat: -90, MaxLon: -180}
	buf := make([]byte, 0, 40+n*30)
	buf = append(buf, `{"type":"Polygon","coordinates":[[`...)
	for i := 0; i <= n; i++ {
		k := i % n // the ring closes on its first vertex
		plat := round7(lat + ys[k]/metresPerDegree)
		plon := round7(lon + xs[k]/(metresPerDegree*cosLat))
		bbox.MinLat, bbox.MaxLat = math.Min(bbox.MinLat, plat), math.Max(bbox.MaxLat, plat)
		bbox.MinLon, bbox.MaxLon = math.Min(bbox.MinLon, plon), math.Max(bbox.MaxLon, plon)
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, '[')
		buf = strconv.AppendFloat(buf, plon, 'f', -1, 64)
		buf = append(buf, ',')
		buf = strconv.AppendFloat(buf, plat, 'f', -1, 64)
		buf = append(buf, ']')
	}
	buf = append(buf, "]]}"...)
	return buf, inner, bbox
}

// segmentDistance is the distance from the origin to the segment (x1,y1)-(x2,y2).
func segmentDistance(x1, y1, x2, y2 float64) float64 {
	dx, dy := x2-x1, y2-y1
	l2 := dx*dx + dy*dy
	t := 0.0
	if l2 > 0 {
		t = math.Max(0, math.Min(1, -(x1*dx+y1*dy)/l2))
	}
	px, py := x1+t*dx, y1+t*dy
	return math.Hypot(px, py)
}

func round7(x float64) float64 { return math.Round(x*1e7) / 1e7 }

// offset moves (lat, lon) by dx metres east and dy metres north.
func offset(lat, lon, dx, dy float64) (float64, float64) {
	return lat + dy/metresPerDegree, lon + dx/(metresPerDegree*math.Cos(lat*math.Pi/180))
}

// haversine returns the great-circle distance in metres.
func haversine(lat1, lon1, lat2, lon2 float64) float64 {
	const earthRadiusM = 6_371_008.8
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	h := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * earthRadiusM * math.Asin(math.Sqrt(h))
}

// slug folds a name to the lower-case ASCII letters and digits that survive
// as a hashtag or handle ("São Paulo" → "saopaulo"), at most max bytes.
func slug(s string, max int) string {
	b := make([]byte, 0, len(s))
	for _, r := range s {
		if len(b) >= max {
			break
		}
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b = append(b, byte(r))
		case r >= 'A' && r <= 'Z':
			b = append(b, byte(r-'A'+'a'))
		default:
			b = append(b, fold(r)...)
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

// fold spells an accented Latin letter in ASCII, or returns "".
func fold(r rune) string {
	for _, f := range [...]struct{ from, to string }{
		{"àáâãäåÀÁÂÃÄÅ", "a"}, {"æÆ", "ae"}, {"çčćÇČĆ", "c"}, {"èéêëěÈÉÊË", "e"}, {"ìíîïıİÍ", "i"},
		{"ñÑ", "n"}, {"òóôõöøÒÓÔÕÖØ", "o"}, {"ùúûüůÙÚÛÜ", "u"}, {"ýÝ", "y"}, {"žŽ", "z"}, {"šşŠŞ", "s"},
		{"ğĞ", "g"}, {"řŘ", "r"}, {"ß", "ss"},
	} {
		if strings.ContainsRune(f.from, r) {
			return f.to
		}
	}
	return ""
}
