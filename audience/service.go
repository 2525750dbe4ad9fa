package audience

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo/city"
)

// Service answers audience questions for one deployment.
type Service struct {
	Store geopulse.Store
	// Cities names the audience's home areas; nil reports them by grid
	// square ("48.9,2.3").
	Cities *city.Geocoder
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// FloorInfo tells a reader how the numbers were protected.
type FloorInfo struct {
	MinAuthors int     `json:"min_authors"`
	Epsilon    float64 `json:"epsilon"`
	Rounding   int     `json:"rounding"`
}

// Size is an audience's reported size.
type Size struct {
	Authors int64 `json:"authors"`
	// Suppressed: the audience is smaller than the floor (or its noisy
	// size is); Authors is 0 and nothing about it is shown.
	Suppressed bool      `json:"suppressed"`
	Floor      FloorInfo `json:"floor"`
}

// HomeAuthors counts the audience's authors living in a city (or, without
// a geocoder or outside any city, a grid square).
type HomeAuthors struct {
	Home    string `json:"home"`
	Authors int64  `json:"authors"`
}

// Insight is an audience's floored composition.
type Insight struct {
	Size
	New        *int64                    `json:"new,omitempty"`
	Returning  *int64                    `json:"returning,omitempty"`
	Interests  []geopulse.TermAuthors    `json:"interests"`
	Brands     []geopulse.TermAuthors    `json:"brands"`
	Categories []geopulse.TermAuthors    `json:"categories"`
	Languages  []geopulse.TermAuthors    `json:"languages"`
	Places     []geopulse.PlaceAuthors   `json:"places"`
	HourOfWeek []geopulse.SlotAuthors    `json:"hour_of_week"`
	Followers  []geopulse.FollowerBucket `json:"followers"`
	Homes      []HomeAuthors             `json:"homes"`
	Trend      []geopulse.WeekAuthors    `json:"trend"`
}

// query resolves criteria into a store query and the audience's floor.
// The noise is keyed by the audience and the row, never by the endpoint:
// a count released by the insight and again by an export is one draw, so
// asking through another door does not average the noise away.
func (s *Service) query(ctx context.Context, workspaceID int64, c geopulse.AudienceCriteria) (geopulse.AudienceQuery, Floor, error) {
	if err := c.Normalize(); err != nil {
		return geopulse.AudienceQuery{}, Floor{}, err
	}
	set, err := s.Store.PrivacySettings(ctx, workspaceID)
	if err != nil {
		return geopulse.AudienceQuery{}, Floor{}, err
	}
	q := geopulse.AudienceQuery{WorkspaceID: workspaceID, Criteria: c, Now: s.now()}
	return q, Floor{Settings: set, Query: "audience|" + c.Key()}, nil
}

func (f Floor) info() FloorInfo {
	return FloorInfo{MinAuthors: f.Settings.MinAuthors, Epsilon: f.Settings.Epsilon, Rounding: Rounding}
}

// Size reports an audience's size.
func (s *Service) Size(ctx context.Context, workspaceID int64, c geopulse.AudienceCriteria) (Size, error) {
	q, f, err := s.query(ctx, workspaceID, c)
	if err != nil {
		return Size{}, err
	}
	n, err := s.Store.AudienceSize(ctx, q)
	if err != nil {
		return Size{}, err
	}
	return f.size(n), nil
}

// size floors the audience size.
func (f Floor) size(n int64) Size {
	v, ok := f.Count("size", n)
	return Size{Authors: v, Suppressed: !ok, Floor: f.info()}
}

// Insight reports an audience's composition: up to limit rows per list,
// each at least k authors.
func (s *Service) Insight(ctx context.Context, workspaceID int64, c geopulse.AudienceCriteria, limit int) (*Insight, error) {
	q, f, err := s.query(ctx, workspaceID, c)
	if err != nil {
		return nil, err
	}
	st, err := s.Store.AudienceStats(ctx, q, 1000)
	if err != nil {
		return nil, err
	}
	out := &Insight{Size: f.size(st.Authors)}
	if out.Suppressed {
		return out, nil
	}
	if limit <= 0 || limit > 100 {
		limit = 10
	}
	if v, ok := f.Count("new", st.New); ok {
		out.New = &v
	}
	if v, ok := f.Count("returning", st.Returning); ok {
		out.Returning = &v
	}
	terms := func(kind string, in []geopulse.TermAuthors) []geopulse.TermAuthors {
		out := []geopulse.TermAuthors{}
		for _, t := range in {
			if v, ok := f.Count(kind+":"+t.Term, t.Authors); ok {
				out = append(out, geopulse.TermAuthors{Term: t.Term, Authors: v})
			}
		}
		return top(out, limit, func(t geopulse.TermAuthors) int64 { return t.Authors })
	}
	out.Interests = terms("interest", st.Interests)
	out.Brands = terms("brand", st.Brands)
	out.Categories = terms("category", st.Categories)
	out.Languages = terms("language", st.Languages)
	out.Places = []geopulse.PlaceAuthors{}
	for _, p := range st.Places {
		if v, ok := f.Count("place:"+strconv.FormatInt(p.PlaceID, 10), p.Authors); ok {
			p.Authors = v
			out.Places = append(out.Places, p)
		}
	}
	out.Places = top(out.Places, limit, func(p geopulse.PlaceAuthors) int64 { return p.Authors })
	out.HourOfWeek = []geopulse.SlotAuthors{}
	for _, h := range st.HourOfWeek {
		if v, ok := f.Count(fmt.Sprintf("how:%d:%d", h.Weekday, h.Hour), h.Authors); ok {
			h.Authors = v
			out.HourOfWeek = append(out.HourOfWeek, h)
		}
	}
	out.Followers = []geopulse.FollowerBucket{}
	for _, b := range st.Followers {
		if v, ok := f.Count(fmt.Sprintf("followers:%d", b.Span.Min), b.Authors); ok {
			b.Authors = v
			out.Followers = append(out.Followers, b)
		}
	}
	homes := map[string]int64{}
	for _, h := range st.Homes {
		homes[s.homeName(h.Lat, h.Lon)] += h.Authors
	}
	out.Homes = []HomeAuthors{}
	for name, n := range homes {
		if v, ok := f.Count("home:"+name, n); ok {
			out.Homes = append(out.Homes, HomeAuthors{Home: name, Authors: v})
		}
	}
	out.Homes = top(out.Homes, limit, func(h HomeAuthors) int64 { return h.Authors })
	out.Trend = []geopulse.WeekAuthors{}
	for _, w := range st.Trend {
		if v, ok := f.Count("week:"+w.Week.Format("2006-01-02"), w.Authors); ok {
			w.Authors = v
			out.Trend = append(out.Trend, w)
		}
	}
	out.clamp()
	return out, nil
}

// homeName names a home grid square by its nearest city.
func (s *Service) homeName(lat, lon float64) string {
	if s.Cities != nil {
		if c, ok := s.Cities.Nearest(lat, lon); ok {
			return c.String()
		}
	}
	return strconv.FormatFloat(lat, 'f', 1, 64) + "," + strconv.FormatFloat(lon, 'f', 1, 64)
}

// top sorts rows by count, descending (ties keep their order), and keeps
// limit.
func top[T any](rows []T, limit int, n func(T) int64) []T {
	slices.SortStableFunc(rows, func(a, b T) int {
		switch x, y := n(a), n(b); {
		case x > y:
			return -1
		case x < y:
			return 1
		}
		return 0
	})
	return rows[:min(limit, len(rows))]
}

// Matrix is a cross-visitation matrix over places: Authors[i][j] are the
// audience's authors who posted at both i and j (nil: below the floor),
// Share[i][j] the share of i's authors who also posted at j.
type Matrix struct {
	Size
	Places []geopulse.PlaceAuthors `json:"places"`
	// Authors and Share are nil where the floor hides the cell.
	Authors [][]*int64   `json:"authors"`
	Share   [][]*float64 `json:"share"`
}

// MaxMatrixPlaces bounds a cross-visitation matrix.
const MaxMatrixPlaces = 50

// CrossVisitation computes the matrix over the given places, or over the
// places of a group when placeIDs is empty.
func (s *Service) CrossVisitation(ctx context.Context, workspaceID int64, c geopulse.AudienceCriteria, placeIDs []int64, group string) (*Matrix, error) {
	places, err := s.Store.FindPlaces(ctx, geopulse.PlaceFilter{WorkspaceID: workspaceID, IDs: placeIDs, Group: group})
	if err != nil {
		return nil, err
	}
	if len(placeIDs) == 0 && group == "" {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Give places or a group of places.")
	}
	if len(places) == 0 || len(places) > MaxMatrixPlaces+10 {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Cross-visitation needs 1 to %d places (found %d).", MaxMatrixPlaces, len(places))
	}
	// A group may hold sensitive places; they are left out, not refused.
	places = slices.DeleteFunc(places, func(p *geopulse.Place) bool { return p.Restricted() && len(placeIDs) == 0 })
	ids := make([]int64, len(places))
	out := &Matrix{}
	for i, p := range places {
		ids[i] = p.ID
		out.Places = append(out.Places, geopulse.PlaceAuthors{PlaceID: p.ID, Name: p.Name})
	}
	q, f, err := s.query(ctx, workspaceID, c)
	if err != nil {
		return nil, err
	}
	size, err := s.Store.AudienceSize(ctx, q)
	if err != nil {
		return nil, err
	}
	if out.Size = f.size(size); out.Suppressed {
		return out, nil
	}
	m, err := s.Store.CrossVisits(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	out.Authors = make([][]*int64, len(ids))
	out.Share = make([][]*float64, len(ids))
	for i := range ids {
		out.Authors[i] = make([]*int64, len(ids))
		out.Share[i] = make([]*float64, len(ids))
		for j := range ids {
			// Symmetric: one draw per pair; the diagonal is the count the
			// insight reports for the place.
			row := fmt.Sprintf("pair:%d:%d", min(ids[i], ids[j]), max(ids[i], ids[j]))
			if i == j {
				row = fmt.Sprintf("place:%d", ids[i])
			}
			if v, ok := f.Count(row, m[i][j]); ok {
				out.Authors[i][j] = &v
			}
		}
		if d := out.Authors[i][i]; d != nil {
			out.Places[i].Authors = *d
		}
	}
	for i := range ids {
		for j := range ids {
			if d, v := out.Authors[i][i], out.Authors[i][j]; d != nil && v != nil && *d > 0 {
				share := min(1, float64(*v)/float64(*d))
				out.Share[i][j] = &share
			}
		}
	}
	return out, nil
}

// Traffic is a place's floored foot-traffic metrics.
type Traffic struct {
	PlaceID int64  `json:"place_id"`
	Name    string `json:"name"`
	Posters int64  `json:"posters"`
	// RepeatRate is the share of posters with two visits or more;
	// OutOfTownShare the share living more than 50 km away. Nil below
	// the floor.
	RepeatRate     *float64 `json:"repeat_rate,omitempty"`
	OutOfTownShare *float64 `json:"out_of_town_share,omitempty"`
	// DwellSeconds is the median first-to-last time of visits with two
	// posts or more; nil when fewer than k such visits.
	DwellSeconds *float64 `json:"dwell_seconds,omitempty"`
}

// FootTraffic reports per-place metrics; places below the floor are left
// out.
func (s *Service) FootTraffic(ctx context.Context, workspaceID int64, placeIDs []int64, from, to time.Time) ([]Traffic, error) {
	set, err := s.Store.PrivacySettings(ctx, workspaceID)
	if err != nil {
		return nil, err
	}
	rows, err := s.Store.FootTraffic(ctx, workspaceID, placeIDs, from, to)
	if err != nil {
		return nil, err
	}
	f := Floor{Settings: set, Query: fmt.Sprintf("traffic|%v|%s|%s", placeIDs, from.UTC().Format(time.RFC3339), to.UTC().Format(time.RFC3339))}
	out := []Traffic{}
	for _, r := range rows {
		id := strconv.FormatInt(r.PlaceID, 10)
		posters, ok := f.Count("posters:"+id, r.Posters)
		if !ok || posters == 0 {
			continue
		}
		t := Traffic{PlaceID: r.PlaceID, Name: r.Name, Posters: posters}
		share := func(row string, n int64) *float64 {
			v, ok := f.Count(row+":"+id, n)
			if !ok {
				return nil
			}
			x := min(1, float64(v)/float64(posters))
			return &x
		}
		t.RepeatRate = share("repeaters", r.Repeaters)
		t.OutOfTownShare = share("out_of_town", r.OutOfTown)
		if _, ok := f.Count("dwell:"+id, r.DwellVisits); ok {
			d := r.DwellSeconds
			t.DwellSeconds = &d
		}
		out = append(out, t)
	}
	return out, nil
}

// clamp caps every part at the whole: independent noise can make a part
// look larger than the audience, which reads as an error. Capping uses
// only released values, so it costs no privacy.
func (in *Insight) clamp() {
	c := func(v *int64) {
		if *v > in.Authors {
			*v = in.Authors
		}
	}
	for _, p := range []*int64{in.New, in.Returning} {
		if p != nil {
			c(p)
		}
	}
	for _, l := range [][]geopulse.TermAuthors{in.Interests, in.Brands, in.Categories, in.Languages} {
		for i := range l {
			c(&l[i].Authors)
		}
	}
	for i := range in.Places {
		c(&in.Places[i].Authors)
	}
	for i := range in.HourOfWeek {
		c(&in.HourOfWeek[i].Authors)
	}
	for i := range in.Followers {
		c(&in.Followers[i].Authors)
	}
	for i := range in.Homes {
		c(&in.Homes[i].Authors)
	}
	for i := range in.Trend {
		c(&in.Trend[i].Authors)
	}
}
