package instagram

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/geo"
	"github.com/geopulse/geopulse/source/canonical"
)

// Source is the geopulse source name of every Instagram format (v1, Graph
// and, in package instaloader, Instaloader exports), so that one media seen
// through two of them is one post.
const Source = "instagram"

// placeAccuracyM is the accuracy given to a tagged Instagram location. The
// coordinates are those of the Facebook Place the author picked, not of the
// device: for the venues and streets people tag, the pin lies within a few
// tens of metres of where they stood. The payload gives no extent, so a
// city-sized place ("San Francisco") gets the same 50 m and is counted at
// its centre; that is a known limitation, not a choice.
const placeAccuracyM = 50

// maxIDBytes is the longest id the canonical schema accepts; posts built
// here must survive being re-encoded into it on their way to the workers.
const maxIDBytes = 256

// builder assembles one post and keeps the first problem found, in the
// order the decoder checks the fields, so an element gets exactly one
// outcome however many things are wrong with it.
type builder struct {
	p   *geopulse.Post
	err *geopulse.Error
}

func newBuilder() *builder {
	return &builder{p: &geopulse.Post{Source: Source}}
}

func (b *builder) fail(e *geopulse.Error) {
	if b.err == nil {
		b.err = e
	}
}

func (b *builder) invalid(field, format string, args ...any) {
	b.fail(geopulse.Reject(geopulse.ReasonInvalidField, field+" "+format, args...))
}

func (b *builder) missing(field, hint string) {
	b.fail(geopulse.Reject(geopulse.ReasonMissingField, "%s is required%s", field, hint))
}

// typeError turns the first type mismatch encoding/json met into a
// rejection naming the field.
func (b *builder) typeError(err error) {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		field := te.Field
		if field == "" {
			field = "element"
		}
		b.invalid(field, "has the wrong type (%s where %s was expected)", te.Value, te.Type)
	} else if err != nil {
		b.fail(geopulse.Reject(geopulse.ReasonInvalidField, "%v", err))
	}
}

// id reads an identifier: a string, or an integer sent as a number.
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

// ident checks an identifier as the canonical schema will: bounded, and
// without control characters.
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

// count reads an engagement or profile count, number or numeric string.
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

// epoch reads a Unix time in seconds, number or numeric string.
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

// maxUnix is 9999-12-30T23:59:59Z: a story's expiry (a day later) must
// still be writable as RFC 3339, the canonical schema's form, which ends
// with year 9999. Whether a time is plausible is the gate's call, not ours.
const maxUnix = 253402214399

// describe names a bad scalar for a message without echoing long input.
func describe(s scalar) string {
	if len(s.lit) <= 32 && utf8.ValidString(s.lit) {
		return s.lit
	}
	return s.kind()
}

// text checks a free-text field (caption, names, bio): the canonical schema
// refuses NUL in every string.
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
		b.fail(tooLarge("%s is %d characters, more than the limit of %d", field, n, canonical.DefaultLimits.MaxCaption))
		return
	}
	b.p.Caption = v
}

// handle sets the author's handle: no leading '@' (mentions are stored
// without it, so the two can be joined) and no control characters.
func (b *builder) handle(field, v string) {
	v = strings.TrimLeft(v, "@")
	if hasControl(v) {
		b.invalid(field, "must not contain control characters")
		return
	}
	b.p.Author.Handle = v
}

// authorByHandle makes the author's id from a handle when the payload has
// no account id. The "@" prefix keeps handles apart from numeric ids, and
// because AuthorID(source, "@"+lower(handle)) equals geopulse.HandleKey, a
// suppression by handle catches such authors without a lookup.
func authorByHandle(handle string) string {
	return "@" + strings.ToLower(strings.TrimLeft(handle, "@"))
}

// avatar keeps an absolute http(s) URL and drops anything else: a missing
// picture is harmless, and recorded payloads hold placeholders such as "...".
func (b *builder) avatar(v string) {
	if validURL(v) {
		b.p.Author.AvatarURL = v
	}
}

// media appends a media URL. Invalid ones (relative, data:, placeholders)
// are dropped rather than failing the post: the location and the author are
// what a post is for, and the fetcher may only ever see http(s) URLs.
// Duplicates (a carousel's cover is also its first child) count once, and
// the list stops at the canonical limit.
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

// tags normalises explicit hashtags or mentions from the payload: lower
// case, no sigil, no surrounding space, unique, nil when empty.
func (b *builder) tags(field string, sigil byte, in []string) []string {
	var out []string
	for i, v := range in {
		v = normTag(v, sigil)
		if v == "" {
			continue
		}
		if hasControl(v) {
			b.invalid(fmt.Sprintf("%s[%d]", field, i), "must not contain control characters")
			return nil
		}
		if !contains(out, v) {
			out = append(out, v)
		}
	}
	if len(out) > canonical.DefaultLimits.MaxListLen {
		b.fail(tooLarge("%s has more than %d entries", field, canonical.DefaultLimits.MaxListLen))
		return nil
	}
	return out
}

// place sets a tagged place's coordinates. Absent coordinates and the 0,0
// that Instagram sends for "none" mean no location; anything else outside
// the globe is an error in the payload.
func (b *builder) place(field string, lat, lon scalar, name string) {
	if !lat.set() || !lon.set() {
		if name != "" {
			b.fail(geopulse.Reject(geopulse.ReasonNoLocation, "%s %q has no coordinates", field, name))
		} else {
			b.fail(geopulse.Reject(geopulse.ReasonNoLocation, "%s has no coordinates", field))
		}
		return
	}
	la, ok1 := lat.float()
	lo, ok2 := lon.float()
	switch {
	case !ok1:
		b.invalid(field+".latitude", "must be a number, not %s", describe(lat))
	case !ok2:
		b.invalid(field+".longitude", "must be a number, not %s", describe(lon))
	case la == 0 && lo == 0:
		b.fail(geopulse.Reject(geopulse.ReasonNoLocation, "%s is 0,0, which Instagram sends for no location", field))
	case !geo.ValidLatLon(la, lo):
		b.fail(geopulse.Reject(geopulse.ReasonInvalidCoordinates, "%s %g,%g is outside ±90,±180", field, la, lo))
	default:
		b.p.Lat, b.p.Lon = la, lo
		b.p.AccuracyM = placeAccuracyM
		b.p.LocationFrom = geopulse.LocationCentroid
		b.p.PlaceName = b.text(field+".name", name)
	}
}

// post finishes the post: the keys every store uses are derived here, once.
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

func tooLarge(format string, args ...any) *geopulse.Error {
	return &geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge, Message: fmt.Sprintf(format, args...)}
}

// hasControl reports a C0 or C1 control character or DEL in s (valid UTF-8):
// the same rule the canonical schema applies to ids and handles.
func hasControl(s string) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return true
		}
	}
	return false
}

// validURL accepts an absolute http or https URL with a host and without
// spaces or control characters, as the canonical schema does.
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

// normTag lower-cases a tag and trims its sigils and spaces; idempotent, so
// the canonical codec leaves the result unchanged.
func normTag(s string, sigil byte) string {
	s = strings.TrimLeftFunc(s, func(r rune) bool { return r == rune(sigil) || unicode.IsSpace(r) })
	s = strings.TrimRightFunc(s, unicode.IsSpace)
	return strings.ToLower(s)
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
