package http

import (
	"net/http"
	"time"

	"github.com/geopulse/geopulse"
)

// Top-list sizes of the analytics answer.
const (
	defaultTopLimit = 10
	maxTopLimit     = 1000
)

type analyticsResponse struct {
	Posts       int64             `json:"posts"`
	Authors     int64             `json:"authors"`
	Volume      []volumeJSON      `json:"volume"`
	TopHashtags []termCountJSON   `json:"top_hashtags"`
	TopAuthors  []authorCountJSON `json:"top_authors"`
	HourOfWeek  [7][24]int64      `json:"hour_of_week"` // [weekday from Monday][UTC hour]
	Places      []placeCountJSON  `json:"places"`
	// What the posts show and say.
	TopLabels        []termCountJSON      `json:"top_labels"`
	TopBrands        []termCountJSON      `json:"top_brands"`
	TopInterests     []termCountJSON      `json:"top_interests"`
	InterestsByPlace []placeTermCountJSON `json:"interests_by_place"`
	InterestsByHour  []hourTermCountJSON  `json:"interests_by_hour"` // UTC hour of day
}

type placeTermCountJSON struct {
	PlaceID int64  `json:"place_id"`
	Term    string `json:"term"`
	Posts   int64  `json:"posts"`
}

type hourTermCountJSON struct {
	Hour  int    `json:"hour"`
	Term  string `json:"term"`
	Posts int64  `json:"posts"`
}

func termCounts(in []geopulse.TermCount) []termCountJSON {
	out := make([]termCountJSON, len(in))
	for i, t := range in {
		out[i] = termCountJSON{Term: t.Term, Posts: t.Posts}
	}
	return out
}

type volumeJSON struct {
	Start time.Time `json:"start"`
	Kind  string    `json:"kind"`
	Posts int64     `json:"posts"`
}

type termCountJSON struct {
	Term  string `json:"term"`
	Posts int64  `json:"posts"`
}

type authorCountJSON struct {
	Author authorJSON `json:"author"`
	Posts  int64      `json:"posts"`
}

type placeCountJSON struct {
	PlaceID int64  `json:"place_id"`
	Name    string `json:"name"`
	Posts   int64  `json:"posts"`
	Authors int64  `json:"authors"`
}

// handleAnalytics returns the dashboard aggregates of the workspace's
// places (or some of them) over a time range.
func (s *Server) handleAnalytics(w http.ResponseWriter, r *http.Request) {
	ws := workspace(r)
	filter, err := analyticsFilter(r, ws.ID)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	a, err := s.Analytics.Analytics(r.Context(), filter)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res := analyticsResponse{
		Posts:       a.Posts,
		Authors:     a.Authors,
		Volume:      make([]volumeJSON, len(a.Volume)),
		TopHashtags: termCounts(a.TopHashtags),
		TopAuthors:  make([]authorCountJSON, len(a.TopAuthors)),
		HourOfWeek:  a.HourOfWeek,
		Places:      make([]placeCountJSON, len(a.Places)),
	}
	for i, v := range a.Volume {
		res.Volume[i] = volumeJSON{Start: v.Start.UTC(), Kind: string(v.Kind), Posts: v.Posts}
	}
	res.TopLabels, res.TopBrands, res.TopInterests = termCounts(a.TopLabels), termCounts(a.TopBrands), termCounts(a.TopInterests)
	res.InterestsByPlace = make([]placeTermCountJSON, len(a.InterestsByPlace))
	for i, t := range a.InterestsByPlace {
		res.InterestsByPlace[i] = placeTermCountJSON{PlaceID: t.PlaceID, Term: t.Term, Posts: t.Posts}
	}
	res.InterestsByHour = make([]hourTermCountJSON, len(a.InterestsByHour))
	for i, t := range a.InterestsByHour {
		res.InterestsByHour[i] = hourTermCountJSON{Hour: t.Hour, Term: t.Term, Posts: t.Posts}
	}
	// Individuals are named only above the workspace's influencer
	// threshold (docs/AUDIENCES.md); the list is by followers, so that
	// is a cut.
	if s.Audiences != nil {
		set, err := s.Audiences.Store.PrivacySettings(r.Context(), filter.WorkspaceID)
		if err != nil {
			s.Error(w, r, err)
			return
		}
		n := 0
		for n < len(a.TopAuthors) && a.TopAuthors[n].Author.Followers >= set.InfluencerFollowers {
			n++
		}
		a.TopAuthors, res.TopAuthors = a.TopAuthors[:n], res.TopAuthors[:n]
	}
	for i, ac := range a.TopAuthors {
		res.TopAuthors[i] = authorCountJSON{Author: newAuthorJSON(&ac.Author), Posts: ac.Posts}
	}
	for i, p := range a.Places {
		res.Places[i] = placeCountJSON{PlaceID: p.PlaceID, Name: p.Name, Posts: p.Posts, Authors: p.Authors}
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

// analyticsFilter reads the query parameters of GET /v1/analytics.
func analyticsFilter(r *http.Request, workspaceID int64) (geopulse.AnalyticsFilter, error) {
	q := r.URL.Query()
	f := geopulse.AnalyticsFilter{WorkspaceID: workspaceID}
	var err error
	if f.PlaceIDs, err = parseIDs("place", list(q["place"])); err != nil {
		return f, err
	}
	if f.From, f.To, err = parseRange(q.Get("from"), q.Get("to")); err != nil {
		return f, err
	}
	if f.Kinds, err = parseKinds(list(q["kind"])); err != nil {
		return f, err
	}
	switch iv := geopulse.Interval(q.Get("interval")); iv {
	case "":
		f.Interval = geopulse.IntervalDay
	case geopulse.IntervalHour, geopulse.IntervalDay:
		f.Interval = iv
	default:
		return f, paramError("interval", "interval must be hour or day, not %q.", iv)
	}
	limit, err := parseInt("limit", q.Get("limit"), defaultTopLimit, 1, maxTopLimit)
	if err != nil {
		return f, err
	}
	f.Limit = int(limit)
	return f, nil
}
