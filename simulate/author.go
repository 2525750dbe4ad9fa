package simulate

import (
	"math"
	"strconv"
	"strings"

	"github.com/geopulse/geopulse"
)

// tripDays is the length of the slots a person is either home or away in.
const tripDays = 4

type author struct {
	card      geopulse.Author // as of Start; posts carry a drifted copy
	src       int
	city      int
	area      int // home neighbourhood
	homeLat   float64
	homeLon   float64
	routine   int
	interests []int
	cats      []authorCat
	favs      []int32 // favourite venues in the home city
	tags      []string
	// activity is the author's share of posting, mean 1 over all authors.
	activity float64
	// growth is the daily relative follower growth.
	growth    float64
	followers float64
	posts     int64 // posts made so far in this world
	engage    float64
	travel    float64 // share of trip slots spent away
	phase     int64   // seconds, so trips do not all start on the same day
}

type authorCat struct {
	cat int32
	w   float32
}

func (w *World) buildAuthors(n int) {
	g := w.rng
	cityW := make([]float64, len(w.cities))
	for i := range w.cities {
		cityW[i] = cityWeight(w.cities[i].data)
	}
	cityAl := newAlias(cityW)
	srcW := make([]float64, len(sourceTable))
	for i, s := range sourceTable {
		srcW[i] = s.share
	}
	interestW := make([]float64, numInterests)
	for i := range interestTable {
		interestW[i] = interestTable[i].share
	}
	var handles, ids [len(sourceTable)]map[string]bool
	for i := range handles {
		handles[i], ids[i] = map[string]bool{}, map[string]bool{}
	}

	w.authors = make([]author, n)
	var totalActivity float64
	for i := range w.authors {
		a := &w.authors[i]
		a.src = g.pick(srcW)
		a.city = cityAl.sample(g)
		cs := &w.cities[a.city]
		d := cs.data
		a.area = g.intn(len(d.areas))
		ar := d.areas[a.area]
		a.homeLat, a.homeLon = offset(ar.lat, ar.lon, 700*g.norm(), 700*g.norm())

		// Two to four interests, popular ones more often.
		k := 2 + g.pick([]float64{0.4, 0.4, 0.2})
		ws := append([]float64(nil), interestW...)
		for range k {
			j := g.pick(ws)
			ws[j] = 0
			a.interests = append(a.interests, j)
		}
		a.routine = pickRoutine(g, a.interests)
		a.cats = authorCats(a.interests)
		for _, j := range a.interests {
			a.tags = append(a.tags, interestTable[j].tags...)
		}

		// Followers: a lognormal body (median a few hundred) and a Pareto
		// tail of creators and celebrities.
		f := g.lognormal(300, 1.3)
		if g.chance(0.02) {
			f = 10_000 * math.Pow(1-g.float(), -1/0.9)
		}
		f = math.Min(math.Max(f, 3), 250_000_000)
		lf := math.Log10(f)
		business := g.chance(0.03 + 0.4*clamp01((lf-3.5)/2.5))
		if business {
			f *= 2
			lf = math.Log10(f)
		}
		verified := g.chance(0.0005 + 0.9*clamp01((lf-4)/2.5))
		private := !verified && !business && g.chance(map01(f < 10_000, 0.058, 0.02))
		a.followers = f

		src := sourceTable[a.src].name
		sid := sourceID(g, src)
		for ids[a.src][sid] {
			sid = sourceID(g, src)
		}
		ids[a.src][sid] = true

		first := firstNames[g.intn(len(firstNames))]
		last := lastNames[g.intn(len(lastNames))]
		var creator *creatorName
		if business {
			it := &interestTable[a.interests[0]]
			creator = &it.creator[g.intn(len(it.creator))]
		}
		handle := makeHandle(g, first, last, creator, cs.slug, &interestTable[a.interests[0]])
		for handles[a.src][handle] {
			handle = trimHandle(handle, 27) + strconv.Itoa(1+g.intn(999))
		}
		handles[a.src][handle] = true

		a.card = geopulse.Author{
			ID:          geopulse.AuthorID(src, sid),
			Source:      src,
			SourceID:    sid,
			Handle:      handle,
			DisplayName: displayName(g, first, last, creator, d.name),
			Bio:         bio(g, a.interests, creator, d.name),
			Followers:   int64(f),
			Following:   int64(math.Min(math.Max(g.lognormal(map01(business, 600, 350), 1.0), 5), 7500)),
			PostsCount:  int64(g.lognormal(180, 1.1)) + 1,
			Verified:    verified,
			Business:    business,
			Private:     private,
			UpdatedAt:   w.start,
		}
		a.card.AvatarURL = "https://cdn.example/avatars/" + strconv.FormatInt(a.card.ID, 10) + ".jpg"

		a.activity = g.lognormal(1, 0.8)
		if business {
			a.activity *= 2
		}
		totalActivity += a.activity
		a.growth = g.lognormal(0.0008, 0.7)
		if business || verified {
			a.growth *= 2
		}
		// Bigger accounts get proportionally fewer likes.
		a.engage = g.lognormal(0.05, 0.4) / (1 + math.Max(0, lf-3))
		a.travel = 0.04
		for _, j := range a.interests {
			if j == intTravel {
				a.travel = 0.2
			}
		}
		if business {
			a.travel += 0.05
		}
		a.phase = int64(g.intn(tripDays * 86400))
		cs.residents = append(cs.residents, int32(i))
	}
	mean := totalActivity / float64(n)
	for i := range w.authors {
		w.authors[i].activity /= mean
		w.pickFavourites(&w.authors[i])
	}
}

func clamp01(x float64) float64 { return math.Max(0, math.Min(1, x)) }

func map01(cond bool, yes, no float64) float64 {
	if cond {
		return yes
	}
	return no
}

func pickRoutine(g *rng, interests []int) int {
	ws := make([]float64, len(routineTable))
	for r := range routineTable {
		ws[r] = routineTable[r].base
		for _, j := range interests {
			ws[r] += routineTable[r].pull[j]
		}
	}
	return g.pick(ws)
}

// authorCats merges the everyday categories with those of the interests.
func authorCats(interests []int) []authorCat {
	var ws [numCats]float64
	for _, cw := range baseCats {
		ws[cw.cat] += cw.w
	}
	for _, j := range interests {
		for _, cw := range interestTable[j].cats {
			ws[cw.cat] += cw.w
		}
	}
	var out []authorCat
	for c, x := range ws {
		if x > 0 {
			out = append(out, authorCat{int32(c), float32(x)})
		}
	}
	return out
}

// pickFavourites chooses the venues an author returns to: for each category
// they care about, one or two near home, popular ones more often.
func (w *World) pickFavourites(a *author) {
	g := w.rng
	cs := &w.cities[a.city]
	for _, ac := range a.cats {
		list := cs.byCat[ac.cat]
		if ac.w < 1 || len(list) == 0 {
			continue
		}
		ws := make([]float64, len(list))
		for i, vi := range list {
			v := &w.venues[vi]
			ws[i] = v.pop * math.Exp(-haversine(a.homeLat, a.homeLon, v.lat, v.lon)/2500)
		}
		for range 1 + g.intn(2) {
			vi := list[g.pick(ws)]
			dup := false
			for _, f := range a.favs {
				dup = dup || f == vi
			}
			if !dup {
				a.favs = append(a.favs, vi)
			}
		}
	}
}

// sourceID returns an account id in the platform's own format.
func sourceID(g *rng, source string) string {
	u := g.pcg.Uint64()
	switch source {
	case "instagram":
		return strconv.FormatUint(100_000_000+u%70_000_000_000, 10)
	case "x":
		if u&1 == 0 { // an old account: a short sequential id
			return strconv.FormatUint(10_000_000+(u>>1)%2_000_000_000, 10)
		}
		return strconv.FormatUint(1_200_000_000_000_000_000+(u>>1)%500_000_000_000_000_000, 10)
	case "mastodon":
		return strconv.FormatUint(109_000_000_000_000_000+u%4_000_000_000_000_000, 10)
	default: // flickr NSID
		return strconv.FormatUint(10_000_000+u%90_000_000, 10) + "@N0" + strconv.Itoa(int(1+(u>>40)%9))
	}
}

// makeHandle builds a handle of lower-case letters, digits and underscores:
// the characters every platform allows, and that caption parsers read back
// whole after an '@'.
func makeHandle(g *rng, first, last string, creator *creatorName, citySlug string, it *interest) string {
	f, l := slug(first, 15), slug(last, 15)
	var h string
	if creator != nil {
		switch g.intn(3) {
		case 0:
			h = citySlug + creator.handle
		case 1:
			h = creator.handle + "_" + citySlug
		default:
			h = citySlug + "_" + creator.handle
		}
		return trimHandle(h, 30)
	}
	word := it.handleWords[g.intn(len(it.handleWords))]
	switch g.intn(8) {
	case 0:
		h = f + l
	case 1:
		h = f + "_" + l
	case 2:
		h = f + l + twoDigits((70+g.intn(40))%100) // a birth year
	case 3:
		h = f + "_" + word
	case 4:
		h = handlePrefixes[g.intn(len(handlePrefixes))] + f + l
	case 5:
		h = f + citySlug
	case 6:
		h = f + word + strconv.Itoa(1+g.intn(99))
	default:
		h = f[:1] + l
	}
	return trimHandle(h, 30)
}

func twoDigits(n int) string {
	if n < 10 {
		return "0" + strconv.Itoa(n)
	}
	return strconv.Itoa(n)
}

func trimHandle(h string, max int) string {
	if len(h) > max {
		h = h[:max]
	}
	return strings.TrimRight(h, "_")
}

var displayEmojis = []string{"✨", "🌍", "☕", "🌸", "⚡", "🌊", "🖤", "🌙"}

func displayName(g *rng, first, last string, creator *creatorName, city string) string {
	if creator != nil {
		return city + " " + creator.display
	}
	switch r := g.float(); {
	case r < 0.6:
		return first + " " + last
	case r < 0.8:
		return first
	case r < 0.9:
		return first + " " + last + " " + displayEmojis[g.intn(len(displayEmojis))]
	default:
		return first + " " + last[:1] + "."
	}
}

func bio(g *rng, interests []int, creator *creatorName, city string) string {
	if creator != nil {
		name := interestTable[interests[0]].name
		switch g.intn(3) {
		case 0:
			return "The best " + name + " spots in " + city + " 📍 | DM for collabs 📩"
		case 1:
			return "Your daily dose of " + city + " " + name + " ✨ | Tag us to be featured"
		default:
			return city + " " + name + " guide 🗺️ | New posts daily"
		}
	}
	if g.chance(0.2) {
		return ""
	}
	it := &interestTable[interests[0]]
	s := it.bio[g.intn(len(it.bio))]
	if len(interests) > 1 && g.chance(0.5) {
		it2 := &interestTable[interests[1]]
		s += " | " + it2.bio[g.intn(len(it2.bio))]
	}
	if g.chance(0.5) {
		s += " | 📍 " + city
	}
	return s
}
