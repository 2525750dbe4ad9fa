package audience

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	_ "github.com/duckdb/duckdb-go/v2" // Parquet is written by an in-memory DuckDB

	"github.com/geopulse/geopulse"
)

// Export kinds: what a segment is activated as.
const (
	ExportGeo         = "geo"         // places and hours where the audience concentrates
	ExportInterests   = "interests"   // interests, brands and keywords
	ExportInfluencers = "influencers" // public accounts above the threshold
)

// Export formats.
const (
	FormatCSV     = "csv"
	FormatParquet = "parquet"
	// FormatMeta is the geo export as an ad platform's location targeting
	// spec (Meta Marketing API: geo_locations.custom_locations plus an
	// adset_schedule of the hours).
	FormatMeta = "meta"
)

// Export is a rendered export.
type Export struct {
	Name        string // a file name
	ContentType string
	Body        []byte
	Rows        int
	Size        Size
}

// table is an export's rows before rendering.
type table struct {
	header []string
	rows   [][]string
}

// Export renders an audience as a segment. Every kind is refused (EFORBIDDEN
// with reason below_floor) when the audience's reported size is under the
// workspace's segment floor, and every row passes the row floor.
func (s *Service) Export(ctx context.Context, workspaceID int64, c geopulse.AudienceCriteria, kind, format string) (*Export, error) {
	switch format {
	case FormatCSV, FormatParquet:
	case FormatMeta:
		if kind != ExportGeo {
			return nil, geopulse.Errorf(geopulse.EINVALID, "Format meta is for the geo export only.")
		}
	default:
		return nil, geopulse.Errorf(geopulse.EINVALID, "Format must be csv, parquet or meta.")
	}
	if kind != ExportGeo && kind != ExportInterests && kind != ExportInfluencers {
		return nil, geopulse.Errorf(geopulse.EINVALID, "Export kind must be geo, interests or influencers.")
	}
	q, f, err := s.query(ctx, workspaceID, c)
	if err != nil {
		return nil, err
	}
	n, err := s.Store.AudienceSize(ctx, q)
	if err != nil {
		return nil, err
	}
	size := f.size(n)
	if size.Suppressed || size.Authors < int64(f.Settings.SegmentFloor) {
		return nil, &geopulse.Error{Code: geopulse.EFORBIDDEN, Reason: ReasonBelowFloor,
			Message: fmt.Sprintf("This audience is smaller than the export floor of %d authors; widen it to export.", f.Settings.SegmentFloor)}
	}
	var t *table
	var meta any
	switch kind {
	case ExportGeo:
		t, meta, err = s.geoTable(ctx, q, f)
	case ExportInterests:
		t, err = s.interestTable(ctx, q, f)
	case ExportInfluencers:
		t, err = s.influencerTable(ctx, q, f)
	}
	if err != nil {
		return nil, err
	}
	out := &Export{Name: "audience-" + kind + "." + format, Rows: len(t.rows), Size: size}
	switch format {
	case FormatCSV:
		out.ContentType = "text/csv; charset=utf-8"
		out.Body, err = t.csv()
	case FormatParquet:
		out.ContentType = "application/vnd.apache.parquet"
		out.Body, err = t.parquet(ctx)
	case FormatMeta:
		out.Name = "audience-geo-meta.json"
		out.ContentType = "application/json"
		out.Body, err = json.MarshalIndent(meta, "", "  ")
	}
	if err != nil {
		return nil, fmt.Errorf("export: %w", err)
	}
	return out, nil
}

// ReasonBelowFloor is the reason of a refused export.
const ReasonBelowFloor = "below_floor"

// geoTable lists, per place, the hours of the week where at least k of
// the audience's authors posted, with the place as a targetable circle.
func (s *Service) geoTable(ctx context.Context, q geopulse.AudienceQuery, f Floor) (*table, any, error) {
	slots, err := s.Store.AudienceSlots(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	places, err := s.Store.FindPlaces(ctx, geopulse.PlaceFilter{WorkspaceID: q.WorkspaceID})
	if err != nil {
		return nil, nil, err
	}
	byID := map[int64]*geopulse.Place{}
	for _, p := range places {
		byID[p.ID] = p
	}
	t := &table{header: []string{"place_id", "place", "latitude", "longitude", "radius_km", "weekday", "hour_utc", "authors"}}
	type loc struct {
		Latitude     float64 `json:"latitude"`
		Longitude    float64 `json:"longitude"`
		Radius       float64 `json:"radius"`
		DistanceUnit string  `json:"distance_unit"`
		Name         string  `json:"name"`
	}
	type window struct {
		Days        []int  `json:"days"` // 0 Sunday .. 6 Saturday
		StartMinute int    `json:"start_minute"`
		EndMinute   int    `json:"end_minute"`
		TimezoneTyp string `json:"timezone_type"`
	}
	var locs []loc
	var sched []window
	seenPlace, seenSlot := map[int64]bool{}, map[[2]int]bool{}
	for _, sl := range slots {
		p := byID[sl.PlaceID]
		if p == nil {
			continue
		}
		v, ok := f.Count(fmt.Sprintf("slot:%d:%d:%d", sl.PlaceID, sl.Weekday, sl.Hour), sl.Authors)
		if !ok {
			continue
		}
		lat, lon, km := circle(p)
		t.rows = append(t.rows, []string{strconv.FormatInt(p.ID, 10), p.Name, ftoa(lat), ftoa(lon), ftoa(km),
			strconv.Itoa(sl.Weekday), strconv.Itoa(sl.Hour), strconv.FormatInt(v, 10)})
		if !seenPlace[p.ID] {
			seenPlace[p.ID] = true
			locs = append(locs, loc{Latitude: lat, Longitude: lon, Radius: math.Max(1, km), DistanceUnit: "kilometer", Name: p.Name})
		}
		if k := [2]int{sl.Weekday, sl.Hour}; !seenSlot[k] {
			seenSlot[k] = true
			sched = append(sched, window{Days: []int{sl.Weekday % 7}, StartMinute: sl.Hour * 60, EndMinute: sl.Hour*60 + 60, TimezoneTyp: "ADVERTISER"})
		}
	}
	meta := map[string]any{
		"targeting":      map[string]any{"geo_locations": map[string]any{"custom_locations": locs, "location_types": []string{"recent"}}},
		"adset_schedule": sched,
		"note":           "Hours are UTC; set the ad account's time zone to UTC or shift them. Radii are at least 1 km, the platform's minimum.",
	}
	return t, meta, nil
}

// circle is a place as a centre and radius in km: a venue's own, or a
// geofence's bounding box centre and half diagonal.
func circle(p *geopulse.Place) (lat, lon, km float64) {
	if p.Center != nil {
		return p.Center.Lat, p.Center.Lon, p.RadiusM / 1000
	}
	b := p.BBox
	lat, lon = (b.MinLat+b.MaxLat)/2, (b.MinLon+b.MaxLon)/2
	dy := (b.MaxLat - b.MinLat) / 2 * 111.32
	dx := (b.MaxLon - b.MinLon) / 2 * 111.32 * math.Cos(lat*math.Pi/180)
	return lat, lon, math.Hypot(dx, dy)
}

func ftoa(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// interestTable lists the interests and brands of at least k authors.
func (s *Service) interestTable(ctx context.Context, q geopulse.AudienceQuery, f Floor) (*table, error) {
	st, err := s.Store.AudienceStats(ctx, q, 1000)
	if err != nil {
		return nil, err
	}
	t := &table{header: []string{"type", "term", "keyword", "authors"}}
	for _, l := range []struct {
		kind  string
		terms []geopulse.TermAuthors
	}{{"interest", st.Interests}, {"brand", st.Brands}} {
		for _, term := range l.terms {
			if v, ok := f.Count(l.kind+":"+term.Term, term.Authors); ok {
				t.rows = append(t.rows, []string{l.kind, term.Term, strings.ReplaceAll(term.Term, "_", " "), strconv.FormatInt(v, 10)})
			}
		}
	}
	return t, nil
}

// influencerTable lists the audience's public accounts above the
// workspace's influencer threshold: a card and a post count, never where
// or when they posted.
func (s *Service) influencerTable(ctx context.Context, q geopulse.AudienceQuery, f Floor) (*table, error) {
	list, err := s.Store.AudienceInfluencers(ctx, q, f.Settings.InfluencerFollowers, 1000)
	if err != nil {
		return nil, err
	}
	t := &table{header: []string{"source", "handle", "display_name", "followers", "verified", "posts_at_your_places"}}
	for _, in := range list {
		a := in.Author
		if a.Private || a.Followers < f.Settings.InfluencerFollowers {
			continue // the store filters; this is the floor's own check
		}
		t.rows = append(t.rows, []string{a.Source, a.Handle, a.DisplayName, strconv.FormatInt(a.Followers, 10), strconv.FormatBool(a.Verified), strconv.FormatInt(in.Posts, 10)})
	}
	return t, nil
}

func (t *table) csv() ([]byte, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.Write(t.header)
	for _, r := range t.rows {
		for i, v := range r {
			r[i] = csvSafe(v)
		}
		w.Write(r)
	}
	w.Flush()
	return b.Bytes(), w.Error()
}

// csvSafe defuses values a spreadsheet would run as a formula.
func csvSafe(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		if _, err := strconv.ParseFloat(v, 64); err != nil {
			return "'" + v
		}
	}
	return v
}

// parquet writes the table with an in-memory DuckDB: the CSV goes in,
// columns are typed by DuckDB's sniffer, Parquet comes out.
func (t *table) parquet(ctx context.Context) ([]byte, error) {
	dir, err := os.MkdirTemp("", "geopulse-export-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	body, err := t.csv()
	if err != nil {
		return nil, err
	}
	in, out := filepath.Join(dir, "in.csv"), filepath.Join(dir, "out.parquet")
	if err := os.WriteFile(in, body, 0o600); err != nil {
		return nil, err
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	_, err = db.ExecContext(ctx, fmt.Sprintf(`COPY (SELECT * FROM read_csv('%s', header = true, all_varchar = %t))
		TO '%s' (FORMAT parquet)`, in, len(t.rows) == 0, out))
	if err != nil {
		return nil, err
	}
	return os.ReadFile(out)
}
