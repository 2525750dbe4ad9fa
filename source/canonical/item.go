package canonical

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
)

// Field bounds that are part of schema v1 rather than tunable Limits.
const (
	maxIDBytes       = 256 // source, source_id, author.source_id
	maxLanguageBytes = 35  // the longest BCP 47 tag in practice
)

// decodeItem checks the raw bytes of one item and decodes it. Size and UTF-8
// are checked on the raw bytes, before any parsing: both are cheap there, a
// bad item then costs no parse, and invalid UTF-8 is caught even inside
// members the schema ignores (encoding/json would silently replace it).
func decodeItem(raw []byte, lim Limits) (*geopulse.Post, *geopulse.ComplianceEvent, *geopulse.Error) {
	if len(raw) > lim.MaxItemBytes {
		return nil, nil, tooLarge("item is %d bytes, more than the limit of %d", len(raw), lim.MaxItemBytes)
	}
	if !utf8.Valid(raw) {
		return nil, nil, geopulse.Reject(geopulse.ReasonInvalidUTF8, "item is not valid UTF-8 (byte %d)", invalidUTF8At(raw))
	}
	// One copy of the whole item; unescaped strings of the post are
	// substrings of it, so the post costs one allocation for all its text.
	d := itemDecoder{sc: scanner{s: string(raw)}, lim: lim, p: new(geopulse.Post)}
	p, err := d.decode()
	if err != nil || d.event == "" {
		return p, nil, err
	}
	ev, err := d.complianceEvent()
	return nil, ev, err
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

func tooLarge(format string, args ...any) *geopulse.Error {
	return &geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge, Message: fmt.Sprintf(format, args...)}
}

// itemDecoder maps one item's members onto a post. Syntax errors end the
// decoding at once; every other problem is recorded (the first one wins, in
// document order) and decoding goes on, so that an item that is both
// malformed and wrong is reported as malformed.
type itemDecoder struct {
	sc  scanner
	lim Limits
	p   *geopulse.Post
	err *geopulse.Error // first field problem

	version                            int64
	hasVersion                         bool
	hasTakenAt, hasLocation, hasAuthor bool
	hasLat, hasLon                     bool

	// A compliance event item: event names its kind, upTo and at its times.
	event    string
	upTo, at time.Time
}

func (d *itemDecoder) decode() (*geopulse.Post, *geopulse.Error) {
	sc := &d.sc
	sc.ws()
	if sc.peek() != '{' {
		if err := sc.skip(); err != nil {
			return nil, malformed(err)
		}
		return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "item must be a JSON object, not %s", d.typeAt(0))
	}
	if err := d.object(); err != nil {
		return nil, malformed(err)
	}
	sc.ws()
	if sc.pos < len(sc.s) {
		return nil, malformed(sc.fail("unexpected data after the object"))
	}
	// A different version may give the same fields other meanings, so its
	// verdict comes before any field's.
	if d.hasVersion && d.version != Version {
		return nil, geopulse.Reject(geopulse.ReasonUnsupportedVersion, "schema version %d is not supported; this server accepts version %d", d.version, Version)
	}
	if d.err != nil {
		return nil, d.err
	}
	p := d.p
	if d.event != "" {
		return p, nil // checked by complianceEvent
	}
	switch {
	case p.Source == "":
		return nil, missing("source")
	case p.SourceID == "":
		return nil, missing("source_id")
	case !d.hasTakenAt:
		return nil, missing("taken_at")
	case !d.hasLocation:
		return nil, missing("location")
	case !d.hasLat:
		return nil, missing("location.lat")
	case !d.hasLon:
		return nil, missing("location.lon")
	case !d.hasAuthor:
		return nil, missing("author")
	case p.Author.SourceID == "":
		return nil, missing("author.source_id")
	}
	if p.Kind == "" {
		p.Kind = geopulse.KindPhoto
	}
	p.ID = geopulse.PostID(p.Source, p.SourceID)
	p.Author.Source = p.Source
	p.Author.ID = geopulse.AuthorID(p.Source, p.Author.SourceID)
	return p, nil
}

// complianceEvent builds the event of an item that has an "event" member.
// It shares source, source_id and author.source_id with posts; a post's
// other members are ignored on an event.
func (d *itemDecoder) complianceEvent() (*geopulse.ComplianceEvent, *geopulse.Error) {
	p := d.p
	ev := &geopulse.ComplianceEvent{Kind: geopulse.ComplianceKind(d.event), Source: p.Source,
		SourceID: p.SourceID, AuthorSourceID: p.Author.SourceID, UpTo: d.upTo, At: d.at}
	switch {
	case ev.Source == "":
		return nil, missing("source")
	case ev.Kind == geopulse.ComplianceDeletePost && ev.SourceID == "":
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "source_id is required for a delete event")
	case ev.Kind != geopulse.ComplianceDeletePost && ev.AuthorSourceID == "":
		return nil, geopulse.Reject(geopulse.ReasonMissingField, "author.source_id is required for a %s event", ev.Kind)
	}
	return ev, nil
}

// typeAt names the type of the value that starts at byte off.
func (d *itemDecoder) typeAt(off int) string {
	sc := scanner{s: d.sc.s, pos: off}
	sc.ws()
	return sc.kindOf()
}

func malformed(err error) *geopulse.Error {
	se := err.(*syntaxError)
	return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON at byte %d: %s", se.off, se.msg)
}

func missing(field string) *geopulse.Error {
	return geopulse.Reject(geopulse.ReasonMissingField, "%s is required", field)
}

// reject records the first problem of the item.
func (d *itemDecoder) reject(e *geopulse.Error) {
	if d.err == nil {
		d.err = e
	}
}

func (d *itemDecoder) invalid(field, format string, args ...any) {
	if d.err == nil {
		d.err = geopulse.Reject(geopulse.ReasonInvalidField, field+" "+format, args...)
	}
}

// wrongType records that field holds a value of the wrong JSON type and skips
// that value.
func (d *itemDecoder) wrongType(field, want string) error {
	d.invalid(field, "must be %s, not %s", want, d.sc.kindOf())
	return d.sc.skip()
}

// object decodes the top-level object.
func (d *itemDecoder) object() error {
	sc := &d.sc
	p := d.p
	if err := sc.enter(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, more, err := sc.member(first)
		if err != nil || !more {
			return err
		}
		switch key {
		case "v":
			d.version, d.hasVersion, err = d.int("v")
		case "source":
			p.Source, err = d.ident("source")
		case "source_id":
			p.SourceID, err = d.ident("source_id")
		case "kind":
			err = d.kind()
		case "taken_at":
			p.TakenAt, d.hasTakenAt, err = d.time("taken_at")
		case "observed_at":
			p.ObservedAt, _, err = d.time("observed_at")
		case "expires_at":
			var t time.Time
			var ok bool
			if t, ok, err = d.time("expires_at"); ok {
				p.ExpiresAt = &t
			} else {
				p.ExpiresAt = nil
			}
		case "location":
			err = d.location()
		case "author":
			err = d.author()
		case "caption":
			if p.Caption, _, err = d.str("caption"); err == nil {
				if n := utf8.RuneCountInString(p.Caption); n > d.lim.MaxCaption {
					d.reject(tooLarge("caption is %d characters, more than the limit of %d", n, d.lim.MaxCaption))
				}
			}
		case "hashtags":
			p.Hashtags, err = d.list("hashtags", '#')
		case "mentions":
			p.Mentions, err = d.list("mentions", '@')
		case "media":
			p.MediaURLs, err = d.list("media", 0)
		case "likes":
			p.Likes, err = d.count("likes")
		case "comments":
			p.Comments, err = d.count("comments")
		case "views":
			p.Views, err = d.count("views")
		case "language":
			err = d.language()
		case "event":
			var ok bool
			if d.event, ok, err = d.str("event"); err == nil && ok && !geopulse.ComplianceKind(d.event).Valid() {
				d.invalid("event", "must be one of delete, user_delete, user_protect, user_unprotect, scrub_geo")
			}
		case "up_to":
			d.upTo, _, err = d.time("up_to")
		case "at":
			d.at, _, err = d.time("at")
		default:
			// Unknown members are ignored so that a sender may add
			// fields before this server learns them.
			err = sc.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (d *itemDecoder) location() error {
	sc := &d.sc
	p := d.p
	switch sc.peek() {
	case 'n':
		d.hasLocation = false
		return sc.literal("null")
	case '{':
	default:
		return d.wrongType("location", "an object")
	}
	d.hasLocation = true
	if err := sc.enter(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, more, err := sc.member(first)
		if err != nil || !more {
			return err
		}
		switch key {
		case "lat":
			err = d.coord("location.lat", 90, &p.Lat, &d.hasLat)
		case "lon":
			err = d.coord("location.lon", 180, &p.Lon, &d.hasLon)
		case "accuracy_m":
			var ok bool
			if p.AccuracyM, ok, err = d.float("location.accuracy_m"); ok && !(p.AccuracyM >= 0 && !math.IsInf(p.AccuracyM, 1)) {
				d.invalid("location.accuracy_m", "must be a finite number ≥ 0")
			}
		case "name":
			p.PlaceName, _, err = d.str("location.name")
		case "from":
			var v string
			if v, _, err = d.str("location.from"); err == nil {
				p.LocationFrom = geopulse.LocationFrom(v)
				if v != "" && !p.LocationFrom.Valid() {
					d.invalid("location.from", "must be one of point, bbox, centroid, venue")
				}
			}
		default:
			err = sc.skip()
		}
		if err != nil {
			return err
		}
	}
}

func (d *itemDecoder) coord(field string, bound float64, v *float64, has *bool) error {
	f, ok, err := d.float(field)
	*v, *has = f, ok
	if ok && !(f >= -bound && f <= bound) {
		d.reject(geopulse.Reject(geopulse.ReasonInvalidCoordinates, "%s %g is outside ±%g", field, f, bound))
	}
	return err
}

func (d *itemDecoder) author() error {
	sc := &d.sc
	a := &d.p.Author
	switch sc.peek() {
	case 'n':
		d.hasAuthor = false
		return sc.literal("null")
	case '{':
	default:
		return d.wrongType("author", "an object")
	}
	d.hasAuthor = true
	if err := sc.enter(); err != nil {
		return err
	}
	for first := true; ; first = false {
		key, more, err := sc.member(first)
		if err != nil || !more {
			return err
		}
		switch key {
		case "source_id":
			a.SourceID, err = d.ident("author.source_id")
		case "handle":
			var h string
			if h, _, err = d.str("author.handle"); err == nil {
				// "@jane" and "jane" are the same account; mentions
				// are stored without '@' too, so the two can be joined.
				a.Handle = strings.TrimLeft(h, "@")
				if hasControl(a.Handle) {
					d.invalid("author.handle", "must not contain control characters")
				}
			}
		case "display_name":
			a.DisplayName, _, err = d.str("author.display_name")
		case "avatar_url":
			a.AvatarURL, err = d.url("author.avatar_url")
		case "bio":
			a.Bio, _, err = d.str("author.bio")
		case "followers":
			a.Followers, err = d.count("author.followers")
		case "following":
			a.Following, err = d.count("author.following")
		case "posts":
			a.PostsCount, err = d.count("author.posts")
		case "verified":
			a.Verified, err = d.bool("author.verified")
		case "business":
			a.Business, err = d.bool("author.business")
		case "private":
			a.Private, err = d.bool("author.private")
		default:
			err = sc.skip()
		}
		if err != nil {
			return err
		}
	}
}

// str reads a string member; null counts as absent (ok false).
func (d *itemDecoder) str(field string) (v string, ok bool, err error) {
	sc := &d.sc
	switch sc.peek() {
	case '"':
	case 'n':
		return "", false, sc.literal("null")
	default:
		return "", false, d.wrongType(field, "a string")
	}
	v, flags, err := sc.str()
	switch {
	case err != nil:
		return "", false, err
	case flags&strLoneSurrogate != 0:
		d.reject(geopulse.Reject(geopulse.ReasonInvalidUTF8, "%s contains an unpaired UTF-16 surrogate escape", field))
	case flags&strNUL != 0:
		d.invalid(field, "must not contain NUL (\\u0000)")
	}
	return v, true, nil
}

// ident reads an identifier: source, source_id or author.source_id. Empty
// counts as absent and is reported as missing by the caller.
func (d *itemDecoder) ident(field string) (string, error) {
	v, _, err := d.str(field)
	switch {
	case err != nil:
	case len(v) > maxIDBytes:
		d.invalid(field, "is %d bytes, more than the limit of %d", len(v), maxIDBytes)
	case hasControl(v):
		d.invalid(field, "must not contain control characters")
	}
	return v, err
}

// hasControl reports a C0 or C1 control character or DEL in s, which must
// be valid UTF-8: C1 controls are U+0080–U+009F, encoded as 0xC2 0x80–0x9F.
func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c == 0x7f || (c == 0xc2 && i+1 < len(s) && s[i+1] < 0xa0) {
			return true
		}
	}
	return false
}

// url reads an absolute http(s) URL. The media fetcher downloads these, so
// anything else (file:, data:, relative paths) is refused at the door.
func (d *itemDecoder) url(field string) (string, error) {
	v, _, err := d.str(field)
	if err == nil && v != "" && !validURL(v) {
		d.invalid(field, "must be an absolute http or https URL without spaces or control characters")
	}
	return v, err
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
	if rest == "" || rest[0] == '/' || rest[0] == '?' || rest[0] == '#' {
		return false // no host
	}
	for i := 0; i < len(rest); i++ {
		if c := rest[i]; c <= ' ' || c == 0x7f {
			return false
		} else if c >= utf8.RuneSelf {
			// Rare in URLs: decode only from here on.
			for _, r := range rest[i:] {
				if unicode.IsControl(r) || unicode.IsSpace(r) {
					return false
				}
			}
			return true
		}
	}
	return true
}

func (d *itemDecoder) kind() error {
	v, ok, err := d.str("kind")
	if err != nil || !ok {
		d.p.Kind = ""
		return err
	}
	d.p.Kind = geopulse.Kind(v)
	if !d.p.Kind.Valid() {
		d.invalid("kind", "must be one of photo, video, story, reel, text")
	}
	return nil
}

func (d *itemDecoder) language() error {
	v, _, err := d.str("language")
	if err != nil {
		return err
	}
	d.p.Language = v
	if len(v) > maxLanguageBytes {
		d.invalid("language", "must be a BCP 47 tag of at most %d bytes", maxLanguageBytes)
		return nil
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			d.invalid("language", "must be a BCP 47 tag (letters, digits and '-')")
			return nil
		}
	}
	return nil
}

// time reads an RFC 3339 timestamp and converts it to UTC.
func (d *itemDecoder) time(field string) (time.Time, bool, error) {
	v, ok, err := d.str(field)
	if err != nil || !ok {
		return time.Time{}, false, err
	}
	t, perr := time.Parse(time.RFC3339, v)
	if perr != nil {
		d.invalid(field, "must be an RFC 3339 timestamp such as 2026-11-28T10:00:00Z")
		return time.Time{}, false, nil
	}
	return t.UTC(), true, nil
}

func (d *itemDecoder) bool(field string) (bool, error) {
	sc := &d.sc
	switch sc.peek() {
	case 't':
		return true, sc.literal("true")
	case 'f':
		return false, sc.literal("false")
	case 'n':
		return false, sc.literal("null")
	default:
		return false, d.wrongType(field, "a boolean")
	}
}

// number reads the literal of a number member; null counts as absent.
func (d *itemDecoder) number(field string) (string, bool, error) {
	sc := &d.sc
	switch c := sc.peek(); {
	case c == '-' || '0' <= c && c <= '9':
		lit, err := sc.num()
		return lit, err == nil, err
	case c == 'n':
		return "", false, sc.literal("null")
	default:
		return "", false, d.wrongType(field, "a number")
	}
}

func (d *itemDecoder) float(field string) (float64, bool, error) {
	lit, ok, err := d.number(field)
	if !ok {
		return 0, false, err
	}
	// The grammar was checked, so ParseFloat can only overflow, which it
	// reports as ±Inf; callers reject that with their range checks.
	f, _ := strconv.ParseFloat(lit, 64)
	return f, true, nil
}

// int reads an integer member. 1e3 and 1000.0 are accepted as 1000, because
// some JSON writers format every number as a float.
func (d *itemDecoder) int(field string) (int64, bool, error) {
	lit, ok, err := d.number(field)
	if !ok {
		return 0, false, err
	}
	if n, perr := strconv.ParseInt(lit, 10, 64); perr == nil {
		return n, true, nil
	}
	f, perr := strconv.ParseFloat(lit, 64)
	if perr != nil || f != math.Trunc(f) || f < -(1<<63) || f >= 1<<63 {
		d.invalid(field, "must be an integer within ±2^63")
		return 0, false, nil
	}
	return int64(f), true, nil
}

// count reads an engagement or profile count, which cannot be negative.
func (d *itemDecoder) count(field string) (int64, error) {
	n, ok, err := d.int(field)
	if ok && n < 0 {
		d.invalid(field, "must not be negative")
		return 0, nil
	}
	return n, err
}

// list reads hashtags (strip '#'), mentions (strip '@') or media (strip 0:
// URLs, kept verbatim). Tags are normalised to lower case without the
// leading sigil and de-duplicated, so "#Coffee" and "coffee" count once.
func (d *itemDecoder) list(field string, strip byte) ([]string, error) {
	sc := &d.sc
	switch sc.peek() {
	case '[':
	case 'n':
		return nil, sc.literal("null")
	default:
		return nil, d.wrongType(field, "an array of strings")
	}
	if err := sc.enter(); err != nil {
		return nil, err
	}
	// Collect into a stack buffer and copy once at the end: one
	// allocation of the exact size instead of append's doublings.
	var buf [16]string
	out := buf[:0]
	n := 0
	for first := true; ; first = false {
		more, err := sc.element(first)
		if err != nil {
			return nil, err
		}
		if !more {
			if len(out) == 0 {
				return nil, nil
			}
			return slices.Clone(out), nil
		}
		n++
		if n > d.lim.MaxListLen {
			if n == d.lim.MaxListLen+1 {
				d.reject(tooLarge("%s has more than %d entries", field, d.lim.MaxListLen))
			}
			if err := sc.skip(); err != nil {
				return nil, err
			}
			continue
		}
		// The element's name is built only when there is something to say.
		elem := func() string { return fmt.Sprintf("%s[%d]", field, n-1) }
		if sc.peek() != '"' {
			if err := d.wrongType(elem(), "a string"); err != nil {
				return nil, err
			}
			continue
		}
		v, flags, err := sc.str()
		switch {
		case err != nil:
			return nil, err
		case flags&strLoneSurrogate != 0:
			d.reject(geopulse.Reject(geopulse.ReasonInvalidUTF8, "%s contains an unpaired UTF-16 surrogate escape", elem()))
		case flags&strNUL != 0:
			d.invalid(elem(), "must not contain NUL (\\u0000)")
		}
		if strip == 0 {
			if !validURL(v) {
				d.invalid(elem(), "must be an absolute http or https URL without spaces or control characters")
			}
			out = append(out, v)
			continue
		}
		if v = normTag(v, strip); v == "" {
			continue
		}
		if hasControl(v) {
			d.invalid(elem(), "must not contain control characters")
		}
		if !contains(out, v) {
			out = append(out, v)
		}
	}
}

// normTag lower-cases a hashtag or mention and trims its sigils and spaces.
// It is idempotent, so a decoded post re-encoded decodes to itself.
func normTag(s string, sigil byte) string {
	if s != "" && s[0] != sigil && s[0] > ' ' && s[0] < utf8.RuneSelf && s[len(s)-1] > ' ' && s[len(s)-1] < utf8.RuneSelf {
		return strings.ToLower(s) // nothing to trim; ToLower has an ASCII fast path
	}
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
