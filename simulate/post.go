package simulate

import (
	"math"
	"strconv"
	"time"

	"github.com/geopulse/geopulse"
)

// Shares of posts by where they are.
const (
	// coarseShare of posts carry only a city-level location (the city's
	// centre, accuracy 1–5 km), as when a user tags just the city.
	coarseShare = 0.03
	// streetShare are made away from any venue: at home, in the street.
	streetShare = 0.10
	// favouriteShare of venue posts in the home city are at a favourite.
	favouriteShare = 0.55
)

const hourNs = int64(time.Hour)

// postBox holds a post and its story expiry in one allocation.
type postBox struct {
	post geopulse.Post
	exp  time.Time
}

// Next returns the next post of the stream. TakenAt never decreases; the
// stream starts at Start, runs through the window at about
// PostsPerAuthorDay per author per day, denser when the authors' local
// routines are busy, and keeps going past End at the same mean rate.
func (w *World) Next() *geopulse.Post {
	w.advance()
	t := time.Unix(0, w.cursor).UTC()
	ai := w.pickAuthor(hourOfWeek(floorDiv(w.cursor, 1e9), 0))
	return w.post(ai, t, false)
}

// Live returns a post stamped at t, for a live demo at a chosen rate: who
// posts still follows the hour of week of t, but TakenAt and ObservedAt are
// t (and a story expires at t + 24 h). It does not move Next's clock; it
// draws from the same random source, so interleaving Live and Next changes
// which posts Next makes, as deterministically as ever.
func (w *World) Live(t time.Time) *geopulse.Post {
	t = t.UTC()
	ai := w.pickAuthor(hourOfWeek(t.Unix(), 0))
	return w.post(ai, t, true)
}

// advance moves the cursor to the next arrival of a Poisson process whose
// rate is constant within each UTC hour and repeats weekly.
func (w *World) advance() {
	e := w.rng.exp()
	for {
		binEnd := (floorDiv(w.cursor, hourNs) + 1) * hourNs
		rate := w.rate[hourOfWeek(floorDiv(w.cursor, 1e9), 0)]
		capacity := rate * float64(binEnd-w.cursor) / 1e9
		if e < capacity {
			w.cursor += int64(e / rate * 1e9)
			if w.cursor >= binEnd { // float rounding at the edge
				w.cursor = binEnd - 1
			}
			return
		}
		e -= capacity
		w.cursor = binEnd
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (w *World) pickAuthor(how int) int {
	gr := &w.groups[w.byHour[how].sample(w.rng)]
	return int(gr.members[gr.pick.sample(w.rng)])
}

// whereIs returns the city an author is in at a Unix time, and whether that
// is away from home. Trips are decided by a hash of (author, slot), so an
// author stays in one place for the length of a slot.
func (w *World) whereIs(a *author, ai int, unix int64) (int, bool) {
	if len(w.cities) < 2 {
		return a.city, false
	}
	slot := floorDiv(unix+a.phase, tripDays*86400)
	h := mix(uint64(w.seed) ^ uint64(ai)*0x9e3779b97f4a7c15 ^ uint64(slot)*0xc2b2ae3d27d4eb4f)
	if unit(h) >= a.travel {
		return a.city, false
	}
	x := unit(mix(h)) * w.cityPick[len(w.cityPick)-1]
	lo, hi := 0, len(w.cityPick)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if w.cityPick[mid] > x {
			hi = mid
		} else {
			lo = mid + 1
		}
	}
	if lo == a.city {
		lo = (lo + 1) % len(w.cities)
	}
	return lo, true
}

// pickVenue chooses where an author posts from at a local hour of week, or
// nil when nothing they care about is open (they post from home).
func (w *World) pickVenue(a *author, cs *cityState, home bool, how int) *venue {
	g := w.rng
	var weights [numCats]float32
	var total, all float32
	for i, ac := range a.cats {
		if len(cs.byCat[ac.cat]) > 0 {
			weights[i] = ac.w * w.open[ac.cat][how]
			total += weights[i]
			all += ac.w
		}
	}
	// At quiet hours people are mostly home: the likelier a venue is, the
	// likelier the post is from one.
	if total <= 0 || float32(g.float())*0.3*all > total {
		return nil
	}
	u := float32(g.float()) * total
	pick := -1
	for i := range a.cats {
		if weights[i] > 0 {
			pick = i
			if u < weights[i] {
				break
			}
			u -= weights[i]
		}
	}
	cat := a.cats[pick].cat
	if home && g.chance(favouriteShare) {
		n := 0
		for _, f := range a.favs {
			if w.venues[f].cat == int(cat) {
				n++
			}
		}
		if n > 0 {
			k := g.intn(n)
			for _, f := range a.favs {
				if w.venues[f].cat == int(cat) {
					if k == 0 {
						return &w.venues[f]
					}
					k--
				}
			}
		}
	}
	return &w.venues[cs.byCat[cat][cs.catPick[cat].sample(g)]]
}

func (w *World) post(ai int, t time.Time, live bool) *geopulse.Post {
	g := w.rng
	a := &w.authors[ai]
	a.posts++
	unix := t.Unix()
	ci, away := w.whereIs(a, ai, unix)
	cs := &w.cities[ci]
	d := cs.data
	st := &w.sources[a.src]

	box := &postBox{}
	p := &box.post
	p.Source = a.card.Source
	p.Kind = st.kinds[st.kindAl.sample(g)]

	// Identity: a per-platform id that only grows, so it never repeats.
	st.next += 1 + uint64(g.intn(st.maxStep))
	var idb [64]byte
	b := strconv.AppendUint(idb[:0], st.next, 10)
	if a.src == srcInstagram {
		b = append(b, '_')
		b = append(b, a.card.SourceID...)
	}
	p.SourceID = string(b)
	p.ID = geopulse.PostID(p.Source, p.SourceID)

	p.TakenAt = t
	p.ObservedAt = t
	if !live {
		mean := 60.0 // seconds: webhooks and polls see a post within minutes
		if a.src == srcFlickr {
			mean = 1200 // photos are uploaded after the fact
		}
		p.ObservedAt = t.Add(time.Duration((2 + mean*g.exp()) * 1e9))
	}
	if p.Kind == geopulse.KindStory {
		box.exp = t.Add(geopulse.StoryTTL)
		p.ExpiresAt = &box.exp
	}

	// The author's card as seen now: followers drift up from Start.
	p.Author = a.card
	days := math.Max(0, t.Sub(w.start).Hours()/24)
	p.Author.Followers = int64(a.followers * math.Exp(a.growth*days))
	p.Author.PostsCount = a.card.PostsCount + a.posts
	p.Author.UpdatedAt = p.ObservedAt

	// Where.
	var v *venue
	theme := &streetTheme
	switch u := g.float(); {
	case u < coarseShare:
		p.Lat, p.Lon = d.lat, d.lon
		p.AccuracyM = float64(1000 + 100*g.intn(41))
		p.LocationFrom = geopulse.LocationCentroid
		p.PlaceName = cs.label
	case u < coarseShare+streetShare:
		w.street(p, a, cs, ci, away)
	default:
		v = w.pickVenue(a, cs, ci == a.city, hourOfWeek(unix, cs.tzMin))
		if v == nil {
			w.street(p, a, cs, ci, away)
			break
		}
		r := v.inner * 0.85 * math.Sqrt(g.float())
		sin, cos := math.Sincos(2 * math.Pi * g.float())
		p.Lat = v.lat + r*sin/metresPerDegree
		p.Lon = v.lon + r*cos/(metresPerDegree*v.cosLat)
		p.AccuracyM = float64(5 + g.intn(26))
		p.LocationFrom = geopulse.LocationPoint
		p.PlaceName = v.name
		theme = &categoryTable[v.cat]
	}

	w.caption(p, a, ai, cs, v, theme, away)

	if p.Kind != geopulse.KindText {
		n := 1
		if p.Kind == geopulse.KindPhoto && g.chance(0.15) {
			n = 2 + g.intn(3) // a carousel
		}
		p.MediaURLs = make([]string, n)
		var ub [80]byte
		b := append(ub[:0], "https://cdn.example/media/"...)
		b = strconv.AppendInt(b, p.ID, 10)
		base := len(b)
		for i := range n {
			b = b[:base]
			if i > 0 {
				b = append(b, '_')
				b = strconv.AppendInt(b, int64(i+1), 10)
			}
			b = append(b, ".jpg"...)
			p.MediaURLs[i] = string(b)
		}
	}

	w.engagement(p, a)
	return p
}

// street places a post away from venues: near home, or anywhere in a city
// being visited; sometimes tagged with the neighbourhood's name.
func (w *World) street(p *geopulse.Post, a *author, cs *cityState, ci int, away bool) {
	g := w.rng
	lat, lon, area := a.homeLat, a.homeLon, a.area
	if away || ci != a.city {
		area = g.intn(len(cs.data.areas))
		ar := cs.data.areas[area]
		lat, lon = ar.lat, ar.lon
	}
	p.Lat, p.Lon = offset(lat, lon, 800*g.norm(), 800*g.norm())
	p.AccuracyM = float64(5 + g.intn(26))
	p.LocationFrom = geopulse.LocationPoint
	if g.chance(0.4) {
		p.PlaceName = cs.areaLabels[area]
	}
}

// caption writes the caption and fills Hashtags and Mentions with exactly
// the tags it contains.
func (w *World) caption(p *geopulse.Post, a *author, ai int, cs *cityState, v *venue, theme *category, away bool) {
	g := w.rng
	var mentions [2]string
	nm := 0
	var buf [320]byte
	b := buf[:0]

	if p.Kind == geopulse.KindStory && g.chance(0.45) {
		// Most stories carry no text; some just a location sticker's @.
		if v != nil && v.handle != "" && g.chance(0.3) {
			b = append(b, '@')
			b = append(b, v.handle...)
			mentions[0], nm = v.handle, 1
		}
		p.Caption = string(b)
		p.Mentions = mentionSlice(mentions[:nm])
		return
	}

	if away && g.chance(0.35) {
		b = append(b, travelOpeners[g.intn(len(travelOpeners))]...)
		b = append(b, cs.data.name...)
		b = append(b, "! "...)
	}
	b = append(b, theme.lines[g.intn(len(theme.lines))]...)
	if v != nil {
		switch r := g.float(); {
		case r < 0.35:
			b = append(b, " at "...)
			b = append(b, v.name...)
		case r < 0.6 && v.handle != "":
			b = append(b, " @"...)
			b = append(b, v.handle...)
			mentions[nm] = v.handle
			nm++
		}
	} else if g.chance(0.3) {
		b = append(b, " in "...)
		b = append(b, cs.data.name...)
	}
	if p.Kind == geopulse.KindText {
		b = append(b, ". "...)
		b = append(b, textTails[g.intn(len(textTails))]...)
	}
	if g.chance(0.06) {
		// A friend from home, on the same platform.
		res := w.cities[a.city].residents
		f := &w.authors[res[g.intn(len(res))]]
		if f != a && f.src == a.src && (nm == 0 || mentions[0] != f.card.Handle) {
			b = append(b, " with @"...)
			b = append(b, f.card.Handle...)
			mentions[nm] = f.card.Handle
			nm++
		}
	}
	if g.chance(0.75) {
		b = append(b, ' ')
		b = append(b, theme.emojis[g.intn(len(theme.emojis))]...)
	}

	var want int
	switch {
	case p.Kind == geopulse.KindStory:
		want = g.intn(3)
	case a.src == srcInstagram:
		want = g.intn(7)
	case a.src == srcFlickr:
		want = g.intn(4)
	default:
		want = g.intn(3)
	}
	var tags [8]string
	nt := 0
	for try := 0; nt < want && try < 2*want; try++ {
		var t string
		switch r := g.intn(10); {
		case r < 5:
			t = theme.tags[g.intn(len(theme.tags))]
		case r < 7:
			// People also tag what they are about, wherever they are.
			t = a.tags[g.intn(len(a.tags))]
		case r == 7:
			t = cs.slug
		case r == 8 && v != nil && v.brand != nil:
			t = v.brand.handle
		case r == 9 && away:
			t = "travel"
		default:
			t = theme.tags[g.intn(len(theme.tags))]
		}
		dup := t == ""
		for _, x := range tags[:nt] {
			dup = dup || x == t
		}
		if !dup {
			tags[nt] = t
			nt++
			b = append(b, " #"...)
			b = append(b, t...)
		}
	}
	p.Caption = string(b)
	if nt > 0 {
		p.Hashtags = make([]string, nt)
		copy(p.Hashtags, tags[:nt])
	}
	p.Mentions = mentionSlice(mentions[:nm])
}

func mentionSlice(m []string) []string {
	if len(m) == 0 {
		return nil
	}
	out := make([]string, len(m))
	copy(out, m)
	return out
}

// engagement sets likes, comments and views from the author's followers and
// engagement rate, shaped by the kind and the platform.
func (w *World) engagement(p *geopulse.Post, a *author) {
	g := w.rng
	f := float64(p.Author.Followers)
	er := a.engage * math.Exp(0.5*g.norm())
	switch p.Kind {
	case geopulse.KindStory:
		// Story likes and replies are private; only views are public.
		p.Views = int64(f * g.between(0.05, 0.3))
		return
	case geopulse.KindVideo, geopulse.KindReel:
		p.Views = int64(f*g.lognormal(0.5, 0.9)) + int64(g.intn(20))
		p.Likes = int64(f*er + 3*g.float())
	case geopulse.KindText:
		p.Likes = int64(f*er*0.4 + 2*g.float())
	default:
		p.Likes = int64(f*er + 3*g.float())
	}
	switch a.src {
	case srcX:
		p.Views = max(p.Views, int64(f*g.lognormal(0.3, 0.8))+int64(g.intn(10)))
	case srcFlickr:
		p.Views = int64(f*g.lognormal(1.5, 0.8)) + int64(g.intn(30))
		p.Likes /= 3 // faves are scarcer than likes
	}
	p.Comments = int64(float64(p.Likes) * g.lognormal(0.03, 0.7))
}
