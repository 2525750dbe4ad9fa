package simulate

import (
	"math"
	"time"

	"github.com/geopulse/geopulse"
)

// Defaults for zero Options fields.
const (
	DefaultVenues  = 400
	DefaultAuthors = 5000
	// DefaultSpan is how far Start lies before End when Start is not given.
	DefaultSpan = 30 * 24 * time.Hour
)

// PostsPerAuthorDay is the mean posting rate of an author, stories included.
// The stream of a world with n authors carries n × PostsPerAuthorDay posts
// per simulated day on average, so a caller can size a run: 5,000 authors
// over 30 days are about 300,000 posts.
const PostsPerAuthorDay = 2.0

// Options configures a world. The zero value is valid; End should be set by
// any caller that wants the same world twice, since its default is the clock.
type Options struct {
	Seed    int64
	Cities  int       // how many of the embedded cities to use, best known first; 0 = all
	Venues  int       // total venues; 0 = DefaultVenues
	Authors int       // 0 = DefaultAuthors
	Start   time.Time // first post time; zero = End - DefaultSpan
	End     time.Time // zero = now truncated to the hour
}

// World is a generated world: cities, venues, authors and a post stream.
// It is deterministic: the same Options give the same world and, call for
// call, the same posts. A World is not safe for concurrent use: share one
// behind a lock, or give each goroutine a World of its own seed (two worlds
// of one seed make the same posts, which a store would merge as duplicates).
type World struct {
	seed       int64
	start, end time.Time
	rng        *rng

	cities   []cityState
	cityPick []float64 // cumulative city weights, for travel destinations
	venues   []venue
	authors  []author

	// open[cat][how] is how likely a category is visited at a local hour of week.
	open [numCats][168]float32

	// groups bundle the authors of one (city, routine): the stream picks a
	// group by the hour of week, then an author inside it.
	groups  []group
	byHour  [168]alias   // UTC hour of week → group
	rate    [168]float64 // UTC hour of week → posts per second
	cursor  int64        // UnixNano of the last post of Next
	sources [len(sourceTable)]sourceState
}

type group struct {
	city, routine int
	members       []int32
	pick          alias
}

// sourceState numbers a platform's posts: ids only grow, so (source,
// source id) never repeats, like the platforms' own snowflake ids.
type sourceState struct {
	next    uint64
	maxStep int
	kinds   []geopulse.Kind
	kindW   []float64
	kindAl  alias
}

type cityState struct {
	data  *cityData
	tzMin int
	slug  string // hashtag form, "saopaulo"
	label string // "London, United Kingdom": a city-level location's name
	// areaLabels are "Soho, London", for posts tagged with a neighbourhood.
	areaLabels []string
	byCat      [numCats][]int32
	catPick    [numCats]alias
	residents  []int32
}

// New builds a world from opts.
func New(opts Options) *World {
	end := opts.End
	if end.IsZero() {
		end = time.Now().Truncate(time.Hour)
	}
	end = end.UTC()
	start := opts.Start.UTC()
	if opts.Start.IsZero() || !start.Before(end) {
		start = end.Add(-DefaultSpan)
	}
	nCities := opts.Cities
	if nCities <= 0 || nCities > len(cityTable) {
		nCities = len(cityTable)
	}
	nVenues := opts.Venues
	if nVenues <= 0 {
		nVenues = DefaultVenues
	}
	nAuthors := opts.Authors
	if nAuthors <= 0 {
		nAuthors = DefaultAuthors
	}

	w := &World{
		seed:   opts.Seed,
		start:  start,
		end:    end,
		rng:    newRNG(opts.Seed, 1),
		cursor: start.UnixNano(),
	}
	w.buildOpen()
	w.buildCities(nCities)
	w.buildVenues(nVenues)
	w.buildAuthors(nAuthors)
	w.buildStream()
	return w
}

func (w *World) buildOpen() {
	for c := range categoryTable {
		cat := &categoryTable[c]
		for how := range 168 {
			w.open[c][how] = cat.hours[how%24] * cat.days[effectiveDay(how)]
		}
	}
}

// effectiveDay is the day (Monday = 0) an hour of week belongs to: the small
// hours are the previous day's night.
func effectiveDay(how int) int {
	d := how / 24
	if how%24 < nightEnd {
		d = (d + 6) % 7
	}
	return d
}

// cityWeight damps population so that a world of forty cities is not half
// Tokyo, and small capitals still get a visible share.
func cityWeight(c *cityData) float64 { return math.Pow(c.pop, 0.6) }

func (w *World) buildCities(n int) {
	w.cities = make([]cityState, n)
	w.cityPick = make([]float64, n)
	var sum float64
	for i := range n {
		d := &cityTable[i]
		cs := &w.cities[i]
		cs.data = d
		cs.tzMin = d.tzMin
		cs.slug = slug(d.name, 30)
		cs.label = d.name + ", " + d.country
		for _, a := range d.areas {
			cs.areaLabels = append(cs.areaLabels, a.name+", "+d.name)
		}
		sum += cityWeight(d)
		w.cityPick[i] = sum
	}
}

// buildStream prepares the time process: the posting intensity of every UTC
// hour of the week, summed over groups of authors in their local time.
func (w *World) buildStream() {
	nr := len(routineTable)
	idx := make([]int, len(w.cities)*nr)
	for i := range idx {
		idx[i] = -1
	}
	for ai := range w.authors {
		a := &w.authors[ai]
		k := a.city*nr + a.routine
		if idx[k] < 0 {
			idx[k] = len(w.groups)
			w.groups = append(w.groups, group{city: a.city, routine: a.routine})
		}
		g := &w.groups[idx[k]]
		g.members = append(g.members, int32(ai))
	}
	activity := make([]float64, len(w.groups))
	for gi := range w.groups {
		g := &w.groups[gi]
		ws := make([]float64, len(g.members))
		for i, ai := range g.members {
			ws[i] = w.authors[ai].activity
			activity[gi] += ws[i]
		}
		g.pick = newAlias(ws)
	}
	profiles := make([][168]float64, nr)
	for r := range routineTable {
		profiles[r] = routineProfile(&routineTable[r])
	}
	perSecond := PostsPerAuthorDay / 86400
	weights := make([]float64, len(w.groups))
	for how := range 168 {
		var total float64
		for gi := range w.groups {
			g := &w.groups[gi]
			// The local hour at the middle of the UTC hour, so half-hour
			// zones fall on the right side.
			local := floorMod(how*60+30+w.cities[g.city].tzMin, 168*60) / 60
			weights[gi] = activity[gi] * profiles[g.routine][local]
			total += weights[gi]
		}
		w.byHour[how] = newAlias(weights)
		w.rate[how] = total * perSecond
	}
	for si := range w.sources {
		src := &sourceTable[si]
		st := &w.sources[si]
		for _, kw := range src.kinds {
			st.kinds = append(st.kinds, geopulse.Kind(kw.kind))
			st.kindW = append(st.kindW, kw.w)
		}
		st.kindAl = newAlias(st.kindW)
		switch src.name {
		case "instagram":
			st.next, st.maxStep = 3_100_000_000_000_000_000+w.rng.pcg.Uint64()%1e15, 1<<20
		case "x":
			st.next, st.maxStep = 1_850_000_000_000_000_000+w.rng.pcg.Uint64()%1e15, 1<<22
		case "mastodon":
			st.next, st.maxStep = 113_000_000_000_000_000+w.rng.pcg.Uint64()%1e14, 1<<16
		default: // flickr: 11-digit photo ids
			st.next, st.maxStep = 53_000_000_000+w.rng.pcg.Uint64()%1e9, 200
		}
	}
}

// routineProfile spreads a routine over the 168 local hours of a week,
// normalised to mean 1 so that routines differ in shape, not in volume.
func routineProfile(r *routine) [168]float64 {
	var p [168]float64
	var sum float64
	for how := range 168 {
		d := effectiveDay(how)
		shape := &r.weekday
		if d >= 5 {
			shape = &r.weekend
		}
		p[how] = float64(shape[how%24] * r.days[d])
		sum += p[how]
	}
	for i := range p {
		p[i] *= 168 / sum
	}
	return p
}

func floorMod(a, m int) int {
	a %= m
	if a < 0 {
		a += m
	}
	return a
}

// hourOfWeek returns the hour of week (Monday 00:00 = 0) of a Unix time at a
// UTC offset in minutes. 1970-01-01 was a Thursday, three days after a Monday.
func hourOfWeek(unixSec int64, tzMin int) int {
	h := floorDiv(unixSec+int64(tzMin)*60, 3600) + 72
	return int(h - floorDiv(h, 168)*168)
}

// Places returns the venues as places, new copies on every call: WorkspaceID
// and ID are 0 for the caller to assign. A point venue has Center and
// RadiusM; a park, stadium, beach or zoo has a GeoJSON Polygon instead.
func (w *World) Places() []*geopulse.Place {
	out := make([]*geopulse.Place, len(w.venues))
	for i := range w.venues {
		v := &w.venues[i]
		p := &geopulse.Place{
			Name:     v.name,
			Category: categoryTable[v.cat].key,
			Groups:   append([]string(nil), v.groups...),
			BBox:     v.bbox,
		}
		if v.brand != nil {
			p.Brand = v.brand.name
		}
		if v.geometry != nil {
			p.Geometry = append([]byte(nil), v.geometry...)
		} else {
			p.Center = &geopulse.LatLon{Lat: v.lat, Lon: v.lon}
			p.RadiusM = v.radius
		}
		out[i] = p
	}
	return out
}

// Authors returns the simulated authors as first seen (counts at Start).
func (w *World) Authors() []geopulse.Author {
	out := make([]geopulse.Author, len(w.authors))
	for i := range w.authors {
		out[i] = w.authors[i].card
	}
	return out
}

// Cities returns the cities in use.
func (w *World) Cities() []City {
	out := make([]City, len(w.cities))
	for i := range w.cities {
		d := w.cities[i].data
		out[i] = City{Name: d.name, Country: d.country, Lat: d.lat, Lon: d.lon}
	}
	return out
}

// Start returns the beginning of the historical window: the stream's first
// post is at or after it.
func (w *World) Start() time.Time { return w.start }

// End returns the end of the historical window; Next keeps going past it.
func (w *World) End() time.Time { return w.end }
