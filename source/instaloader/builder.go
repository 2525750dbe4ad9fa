package instaloader

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/source/canonical"
)

// The rules below are those of package instagram's builder, kept as a copy
// because connectors do not import one another (docs/ARCHITECTURE.md); the
// tests of both packages pin them to the same invariants.

// maxIDBytes is the longest id the canonical schema accepts.
const maxIDBytes = 256

// maxUnix is 9999-12-30T23:59:59Z: a story's expiry must still be writable
// as RFC 3339, the canonical schema's form.
const maxUnix = 253402214399

// scalar holds the literal of a JSON value whose type may vary: ids and
// counts sent as numbers or as strings.
type scalar struct{ lit string }

func (s *scalar) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		s.lit = ""
	} else {
		s.lit = string(b)
	}
	return nil
}

func (s scalar) set() bool { return s.lit != "" }

func (s scalar) kind() string {
	switch s.lit[0] {
	case '"':
		return "a string"
	case '{':
		return "an object"
	case '[':
		return "an array"
	case 't', 'f':
		return "a boolean"
	}
	return "a number"
}

// text returns a string's value or a number's literal.
func (s scalar) text() (string, bool) {
	switch c := s.lit; {
	case c == "":
		return "", false
	case c[0] == '"':
		if strings.IndexByte(c, '\\') < 0 {
			return c[1 : len(c)-1], true
		}
		var v string
		err := json.Unmarshal([]byte(c), &v)
		return v, err == nil
	case c[0] == '-' || '0' <= c[0] && c[0] <= '9':
		return c, true
	}
	return "", false
}

func (s scalar) float() (float64, bool) {
	v, ok := s.text()
	if !ok {
		return 0, false
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return f, err == nil
}

func (s scalar) int() (int64, bool) {
	v, ok := s.text()
	if !ok {
		return 0, false
	}
	v = strings.TrimSpace(v)
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		return n, true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		return 0, false
	}
	return int64(f), true
}

func describe(s scalar) string {
	if len(s.lit) <= 32 {
		return s.lit
	}
	return s.kind()
}

// builder assembles one post and keeps the first problem found.
type builder struct {
	p   *geopulse.Post
	err *geopulse.Error
}

func (b *builder) fail(e *geopulse.Error) {
	if b.err == nil {
		b.err = e
	}
}

func (b *builder) invalid(field, format string, args ...any) {
	b.fail(geopulse.Reject(geopulse.ReasonInvalidField, field+" "+format, args...))
}

func (b *builder) missing(field string) {
	b.fail(geopulse.Reject(geopulse.ReasonMissingField, "%s is required", field))
}

func (b *builder) typeError(err error) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		b.invalid(te.Field, "has the wrong type (%s where %s was expected)", te.Value, te.Type)
	} else if err != nil {
		b.fail(geopulse.Reject(geopulse.ReasonInvalidField, "%v", err))
	}
}

func (b *builder) id(field string, s scalar) string {
	if !s.set() {
		return ""
	}
	v, ok := s.text()
	if !ok {
		b.invalid(field, "must be a string or a number, not %s", s.kind())
		return ""
	}
	return b.ident(field, v)
}

func (b *builder) ident(field, v string) string {
	switch {
	case len(v) > maxIDBytes:
		b.invalid(field, "is %d bytes, more than the limit of %d", len(v), maxIDBytes)
	case hasControl(v):
		b.invalid(field, "must not contain control characters")
	default:
		return v
	}
	return ""
}

func (b *builder) count(field string, s scalar) int64 {
	if !s.set() {
		return 0
	}
	n, ok := s.int()
	switch {
	case !ok:
		b.invalid(field, "must be an integer, not %s", describe(s))
	case n < 0:
		b.invalid(field, "must not be negative")
	default:
		return n
	}
	return 0
}

func (b *builder) epoch(field string, s scalar) (time.Time, bool) {
	n, ok := s.int()
	switch {
	case !ok:
		b.invalid(field, "must be a Unix time in seconds, not %s", describe(s))
	case n < 0 || n > maxUnix:
		b.invalid(field, "%d is not a plausible Unix time", n)
	default:
		return time.Unix(n, 0).UTC(), true
	}
	return time.Time{}, false
}

func (b *builder) text(field, v string) string {
	if strings.IndexByte(v, 0) >= 0 {
		b.invalid(field, "must not contain NUL")
		return ""
	}
	return v
}

func (b *builder) caption(field, v string) {
	v = b.text(field, v)
	if n := utf8.RuneCountInString(v); n > canonical.DefaultLimits.MaxCaption {
		b.fail(&geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge,
			Message: fmt.Sprintf("%s is %d characters, more than the limit of %d", field, n, canonical.DefaultLimits.MaxCaption)})
		return
	}
	b.p.Caption = v
}

func (b *builder) handle(field, v string) {
	v = strings.TrimLeft(v, "@")
	if hasControl(v) {
		b.invalid(field, "must not contain control characters")
		return
	}
	b.p.Author.Handle = v
}

// avatar and media keep absolute http(s) URLs and drop anything else.
func (b *builder) avatar(v string) {
	if validURL(v) {
		b.p.Author.AvatarURL = v
	}
}

func (b *builder) media(v string) {
	if !validURL(v) || len(b.p.MediaURLs) >= canonical.DefaultLimits.MaxListLen {
		return
	}
	for _, u := range b.p.MediaURLs {
		if u == v {
			return
		}
	}
	b.p.MediaURLs = append(b.p.MediaURLs, v)
}

// place sets a tagged location; none, incomplete or 0,0 is no location.
func (b *builder) place(lat, lng scalar, name string) {
	if !lat.set() || !lng.set() {
		b.fail(geopulse.Reject(geopulse.ReasonNoLocation, "location %q has no coordinates (Instaloader saves them only for a logged-in session)", name))
		return
	}
	la, ok1 := lat.float()
	lo, ok2 := lng.float()
	switch {
	case !ok1:
		b.invalid("node.location.lat", "must be a number, not %s", describe(lat))
	case !ok2:
		b.invalid("node.location.lng", "must be a number, not %s", describe(lng))
	case la == 0 && lo == 0:
		b.fail(geopulse.Reject(geopulse.ReasonNoLocation, "location is 0,0, which Instagram sends for no location"))
	case !geo.ValidLatLon(la, lo):
		b.fail(geopulse.Reject(geopulse.ReasonInvalidCoordinates, "location %g,%g is outside ±90,±180", la, lo))
	default:
		b.p.Lat, b.p.Lon = la, lo
		b.p.AccuracyM = placeAccuracyM
		b.p.LocationFrom = geopulse.LocationCentroid
		b.p.PlaceName = b.text("node.location.name", name)
	}
}

func (b *builder) post() (*geopulse.Post, error) {
	if b.err != nil {
		return nil, b.err
	}
	p := b.p
	p.ID = geopulse.PostID(p.Source, p.SourceID)
	p.Author.Source = p.Source
	p.Author.ID = geopulse.AuthorID(p.Source, p.Author.SourceID)
	return p, nil
}

func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

func validURL(s string) bool {
	var rest string
	switch {
	case len(s) > 8 && strings.EqualFold(s[:8], "https://"):
		rest = s[8:]
	case len(s) > 7 && strings.EqualFold(s[:7], "http://"):
		rest = s[7:]
	default:
		return false
	}
	if rest == "" || rest[0] == '/' || rest[0] == '?' || rest[0] == '#' || !utf8.ValidString(rest) {
		return false
	}
	for _, r := range rest {
		if r <= ' ' || r == 0x7f || unicode.IsControl(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}
