package csvfile

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// rowDecoder turns data rows into posts.
type rowDecoder struct {
	cols          map[string]int
	defaultSource string
	width         int    // fields in the header
	buf           []byte // the canonical codec's, reused
}

func (d *rowDecoder) row(rec []string, where string) (*geopulse.Post, *geopulse.Error) {
	if len(rec) != d.width {
		return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s has %d fields, the header %d", where, len(rec), d.width)
	}
	for i, cell := range rec {
		if !utf8.ValidString(cell) {
			return nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "%s: column %d is not valid UTF-8", where, i+1)
		}
	}
	get := func(field string) string {
		if i := d.cols[field]; i >= 0 {
			return strings.TrimSpace(rec[i])
		}
		return ""
	}
	p := &geopulse.Post{
		Source:       get("source"),
		SourceID:     get("source_id"),
		Kind:         geopulse.Kind(strings.ToLower(get("kind"))),
		LocationFrom: geopulse.LocationFrom(strings.ToLower(get("location_from"))),
		PlaceName:    get("place_name"),
		Caption:      get("caption"),
		Hashtags:     list(get("hashtags")),
		Mentions:     list(get("mentions")),
		MediaURLs:    strings.Fields(get("media")),
		Language:     get("language"),
		Author: geopulse.Author{
			SourceID:    get("author.source_id"),
			Handle:      get("author.handle"),
			DisplayName: get("author.display_name"),
			AvatarURL:   get("author.avatar_url"),
		},
	}
	if p.Source == "" {
		p.Source = d.defaultSource
	}
	if p.LocationFrom == "" {
		p.LocationFrom = geopulse.LocationPoint
	}
	switch {
	case p.Source == "":
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: source is empty and there is no default source", where)
	case p.SourceID == "":
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: source_id is empty", where)
	case p.Author.SourceID == "":
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: author.source_id is empty", where)
	}
	if get("taken_at") == "" {
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "%s: taken_at is empty", where)
	}
	var err error
	if p.TakenAt, err = parseTime(get("taken_at")); err != nil {
		return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s: taken_at %v", where, err)
	}
	if s := get("expires_at"); s != "" {
		t, err := parseTime(s)
		if err != nil {
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s: expires_at %v", where, err)
		}
		p.ExpiresAt = &t
	}
	if e := locate(p, get("lat"), get("lon"), get("accuracy_m"), where); e != nil {
		return nil, e
	}
	for _, c := range []struct {
		field string
		dst   *int64
	}{
		{"likes", &p.Likes}, {"comments", &p.Comments}, {"views", &p.Views},
		{"author.followers", &p.Author.Followers}, {"author.following", &p.Author.Following}, {"author.posts", &p.Author.PostsCount},
	} {
		s := get(c.field)
		if s == "" {
			continue
		}
		if *c.dst, err = strconv.ParseInt(s, 10, 64); err != nil {
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s: %s must be an integer, not %q", where, c.field, clip(s))
		}
	}
	for _, c := range []struct {
		field string
		dst   *bool
	}{{"author.verified", &p.Author.Verified}, {"author.private", &p.Author.Private}} {
		v, ok := parseBool(get(c.field))
		if !ok {
			return nil, geopulse.Reject(geopulse.ReasonInvalidField, "%s: %s must be true or false, not %q", where, c.field, clip(get(c.field)))
		}
		*c.dst = v
	}
	return canonical.Normalize(p, canonical.Limits{MaxItemBytes: 4 << 20}, &d.buf, where)
}

// locate reads the coordinates. Spreadsheets write 0 (or nothing) for an
// unknown number, so empty cells and 0,0 mean no location.
func locate(p *geopulse.Post, lat, lon, acc, where string) *geopulse.Error {
	if lat == "" || lon == "" {
		return geopulse.Reject(geopulse.ReasonNoLocation, "%s: lat or lon is empty", where)
	}
	var err1, err2 error
	p.Lat, err1 = strconv.ParseFloat(lat, 64)
	p.Lon, err2 = strconv.ParseFloat(lon, 64)
	if err1 != nil || err2 != nil || !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
		return geopulse.Reject(geopulse.ReasonInvalidCoordinates, "%s: lat %q, lon %q must be decimal degrees within ±90, ±180", where, clip(lat), clip(lon))
	}
	if p.Lat == 0 && p.Lon == 0 {
		return geopulse.Reject(geopulse.ReasonNoLocation, "%s: 0,0 is taken as no location", where)
	}
	if acc != "" {
		var err error
		if p.AccuracyM, err = strconv.ParseFloat(acc, 64); err != nil || math.IsNaN(p.AccuracyM) {
			return geopulse.Reject(geopulse.ReasonInvalidField, "%s: accuracy_m must be a number of metres, not %q", where, clip(acc))
		}
	}
	return nil
}

// parseTime reads RFC 3339 or Unix seconds.
func parseTime(s string) (time.Time, error) {
	if sec, err := strconv.ParseInt(s, 10, 64); err == nil {
		// Bounded to years 0–9999, what RFC 3339 (and the store) can hold.
		if sec < -62167219200 || sec > 253402300799 {
			return time.Time{}, errors.New("is out of range")
		}
		return time.Unix(sec, 0).UTC(), nil
	}
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, errors.New("must be RFC 3339 (2026-11-28T10:00:00Z) or Unix seconds")
	}
	return t.UTC(), nil
}

func parseBool(s string) (v, ok bool) {
	switch strings.ToLower(s) {
	case "", "false", "f", "no", "n", "0":
		return false, true
	case "true", "t", "yes", "y", "1":
		return true, true
	}
	return false, false
}

// list splits hashtags or mentions on spaces and commas.
func list(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
}

// clip shortens a cell that goes into a message.
func clip(s string) string {
	if len(s) > 100 {
		return strings.ToValidUTF8(s[:100], "") + "…"
	}
	return s
}
