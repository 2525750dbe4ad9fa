package canonical

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
)

// Encode writes p as one NDJSON line of schema v1. What it writes decodes
// (DecodePost) to p again when p is a post the decoder could have produced.
// It returns an EINVALID *geopulse.Error, and writes nothing, when p cannot be
// represented: a non-finite coordinate or accuracy, or a time outside years
// 0–9999 (RFC 3339's range).
func Encode(w io.Writer, p *geopulse.Post) error {
	for _, f := range []struct {
		name string
		v    float64
	}{{"lat", p.Lat}, {"lon", p.Lon}, {"accuracy_m", p.AccuracyM}} {
		if math.IsNaN(f.v) || math.IsInf(f.v, 0) {
			return geopulse.Errorf(geopulse.EINVALID, "post %s/%s: %s is not a finite number", p.Source, p.SourceID, f.name)
		}
	}
	for _, t := range []struct {
		name string
		v    time.Time
	}{{"taken_at", p.TakenAt}, {"observed_at", p.ObservedAt}, {"expires_at", derefTime(p.ExpiresAt)}} {
		if y := t.v.UTC().Year(); y < 0 || y > 9999 {
			return geopulse.Errorf(geopulse.EINVALID, "post %s/%s: %s is outside the years 0–9999", p.Source, p.SourceID, t.name)
		}
	}
	b := AppendJSON(make([]byte, 0, 1024), p)
	b = append(b, '\n')
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("write post: %w", err)
	}
	return nil
}

func derefTime(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// AppendJSON appends the schema v1 JSON object of p (no newline) to dst and
// returns the extended slice. It uses no reflection and allocates only when
// dst must grow, which makes it the encoder for simulators and benchmarks.
//
// Fields are written in a fixed order; optional fields that are empty (zero
// observed_at, accuracy_m, strings; nil expires_at; empty lists; an empty
// kind, which the decoder reads as photo) are left out, while counts and flags
// are always written. Author.Source, Author.ID and ID are not written: they
// follow from the post's source and source ids. Strings are escaped as
// encoding/json does, without HTML escaping; invalid UTF-8 becomes U+FFFD. A
// non-finite float, which JSON cannot express, is written as null (Encode
// refuses such a post instead).
func AppendJSON(dst []byte, p *geopulse.Post) []byte {
	dst = append(dst, `{"v":1,"source":`...)
	dst = AppendJSONString(dst, p.Source)
	dst = append(dst, `,"source_id":`...)
	dst = AppendJSONString(dst, p.SourceID)
	if p.Kind != "" {
		dst = append(dst, `,"kind":`...)
		dst = AppendJSONString(dst, string(p.Kind))
	}
	dst = append(dst, `,"taken_at":`...)
	dst = appendTime(dst, p.TakenAt)
	if !p.ObservedAt.IsZero() {
		dst = append(dst, `,"observed_at":`...)
		dst = appendTime(dst, p.ObservedAt)
	}

	dst = append(dst, `,"location":{"lat":`...)
	dst = appendFloat(dst, p.Lat)
	dst = append(dst, `,"lon":`...)
	dst = appendFloat(dst, p.Lon)
	if p.AccuracyM != 0 {
		dst = append(dst, `,"accuracy_m":`...)
		dst = appendFloat(dst, p.AccuracyM)
	}
	dst = appendOptString(dst, `,"name":`, p.PlaceName)
	dst = appendOptString(dst, `,"from":`, string(p.LocationFrom))

	a := &p.Author
	dst = append(dst, `},"author":{"source_id":`...)
	dst = AppendJSONString(dst, a.SourceID)
	dst = appendOptString(dst, `,"handle":`, a.Handle)
	dst = appendOptString(dst, `,"display_name":`, a.DisplayName)
	dst = appendOptString(dst, `,"avatar_url":`, a.AvatarURL)
	dst = appendOptString(dst, `,"bio":`, a.Bio)
	dst = append(dst, `,"followers":`...)
	dst = strconv.AppendInt(dst, a.Followers, 10)
	dst = append(dst, `,"following":`...)
	dst = strconv.AppendInt(dst, a.Following, 10)
	dst = append(dst, `,"posts":`...)
	dst = strconv.AppendInt(dst, a.PostsCount, 10)
	dst = append(dst, `,"verified":`...)
	dst = strconv.AppendBool(dst, a.Verified)
	dst = append(dst, `,"business":`...)
	dst = strconv.AppendBool(dst, a.Business)
	dst = append(dst, `,"private":`...)
	dst = strconv.AppendBool(dst, a.Private)
	dst = append(dst, '}')

	dst = appendOptString(dst, `,"caption":`, p.Caption)
	dst = appendList(dst, `,"hashtags":`, p.Hashtags)
	dst = appendList(dst, `,"mentions":`, p.Mentions)
	dst = appendList(dst, `,"media":`, p.MediaURLs)
	dst = append(dst, `,"likes":`...)
	dst = strconv.AppendInt(dst, p.Likes, 10)
	dst = append(dst, `,"comments":`...)
	dst = strconv.AppendInt(dst, p.Comments, 10)
	dst = append(dst, `,"views":`...)
	dst = strconv.AppendInt(dst, p.Views, 10)
	if p.ExpiresAt != nil {
		dst = append(dst, `,"expires_at":`...)
		dst = appendTime(dst, *p.ExpiresAt)
	}
	dst = appendOptString(dst, `,"language":`, p.Language)
	return append(dst, '}')
}

func appendOptString(dst []byte, key, s string) []byte {
	if s == "" {
		return dst
	}
	dst = append(dst, key...)
	return AppendJSONString(dst, s)
}

func appendList(dst []byte, key string, list []string) []byte {
	if len(list) == 0 {
		return dst
	}
	dst = append(dst, key...)
	return AppendJSONStrings(dst, list)
}

// AppendJSONStrings appends list as a JSON array of strings ([] when empty).
func AppendJSONStrings(dst []byte, list []string) []byte {
	dst = append(dst, '[')
	for i, s := range list {
		if i > 0 {
			dst = append(dst, ',')
		}
		dst = AppendJSONString(dst, s)
	}
	return append(dst, ']')
}

func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.UTC().AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

// appendFloat formats like encoding/json: the shortest representation that
// parses back to the same float64, in exponent form only for very small or
// very large magnitudes.
func appendFloat(dst []byte, f float64) []byte {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return append(dst, "null"...)
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	dst = strconv.AppendFloat(dst, f, format, -1, 64)
	if format == 'e' {
		// Clean up e-09 to e-9, as encoding/json does.
		if n := len(dst); n >= 4 && dst[n-4] == 'e' && dst[n-3] == '-' && dst[n-2] == '0' {
			dst[n-2] = dst[n-1]
			dst = dst[:n-1]
		}
	}
	return dst
}

// AppendJSONString appends s as a JSON string, escaping like encoding/json
// with HTML escaping off: quotes, backslashes and control characters; U+2028
// and U+2029 (which break JavaScript parsers); invalid UTF-8 as U+FFFD. The
// stores write their post documents with it too, so there is one escaper.
func AppendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch c {
			case '"', '\\':
				dst = append(dst, '\\', c)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i++
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// AppendEventJSON appends the schema v1 JSON object of a compliance event
// (no newline) to dst: the form every intake path and the stream carry.
func AppendEventJSON(dst []byte, ev *geopulse.ComplianceEvent) []byte {
	dst = append(dst, `{"v":1,"event":`...)
	dst = AppendJSONString(dst, string(ev.Kind))
	dst = append(dst, `,"source":`...)
	dst = AppendJSONString(dst, ev.Source)
	dst = appendOptString(dst, `,"source_id":`, ev.SourceID)
	if ev.AuthorSourceID != "" {
		dst = append(dst, `,"author":{"source_id":`...)
		dst = AppendJSONString(dst, ev.AuthorSourceID)
		dst = append(dst, '}')
	}
	if !ev.UpTo.IsZero() {
		dst = append(dst, `,"up_to":`...)
		dst = appendTime(dst, ev.UpTo)
	}
	if !ev.At.IsZero() {
		dst = append(dst, `,"at":`...)
		dst = appendTime(dst, ev.At)
	}
	return append(dst, '}')
}
