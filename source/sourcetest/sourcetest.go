// Package sourcetest checks what connectors emit: every item a well-formed
// outcome, every post meeting the canonical invariants, every event valid.
// The connectors' tests share it so the rules are written once.
package sourcetest

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/canonical"
)

// CheckItem fails t unless it is a well-formed outcome: exactly one of
// Post, Event and Err; a coded rejection; a post meeting the canonical
// invariants; a valid event.
func CheckItem(t testing.TB, it source.Item, wantSource string) {
	t.Helper()
	n := 0
	for _, set := range []bool{it.Post != nil, it.Event != nil, it.Err != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("item %d: %d of Post, Event, Err set: %+v", it.Index, n, it)
	}
	switch {
	case it.Err != nil:
		CheckRejection(t, it.Err)
	case it.Post != nil:
		CheckInvariants(t, it.Post, wantSource)
	default:
		CheckEvent(t, it.Event, wantSource)
	}
}

var reasons = map[string]bool{
	geopulse.ReasonMalformedJSON: true, geopulse.ReasonInvalidField: true, geopulse.ReasonMissingField: true,
	geopulse.ReasonInvalidCoordinates: true, geopulse.ReasonInvalidUTF8: true, geopulse.ReasonTooLarge: true,
	geopulse.ReasonNoLocation: true, geopulse.ReasonUnsupported: true,
}

func CheckRejection(t testing.TB, err error) {
	t.Helper()
	var e *geopulse.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *geopulse.Error", err, err)
	}
	if e.Code != geopulse.EINVALID && e.Code != geopulse.ETOOLARGE {
		t.Fatalf("error code %q: %v", e.Code, e)
	}
	if !reasons[e.Reason] || e.Message == "" || !utf8.ValidString(e.Message) {
		t.Fatalf("error without a known reason or a valid message: %#v", e)
	}
}

// CheckInvariants fails t unless p meets the invariants of the canonical
// decoder (source/canonical/doc.go) and survives a canonical round trip.
func CheckInvariants(t testing.TB, p *geopulse.Post, wantSource string) {
	t.Helper()
	a := &p.Author
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("post %q: "+format, append([]any{p.SourceID}, args...)...)
	}
	if p.Source == "" || (wantSource != "" && p.Source != wantSource) || a.Source != p.Source {
		fail("source %q, author source %q", p.Source, a.Source)
	}
	for _, id := range []string{p.SourceID, a.SourceID} {
		if id == "" || len(id) > 256 || hasControl(id) {
			fail("bad id %q", id)
		}
	}
	if p.ID != geopulse.PostID(p.Source, p.SourceID) || a.ID != geopulse.AuthorID(p.Source, a.SourceID) {
		fail("ids not derived from (source, source_id)")
	}
	if !p.Kind.Valid() || !p.LocationFrom.Valid() {
		fail("kind %q, location_from %q", p.Kind, p.LocationFrom)
	}
	if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
		fail("coordinates %v, %v", p.Lat, p.Lon)
	}
	if !(p.AccuracyM >= 0 && p.AccuracyM < 1e7) {
		fail("accuracy %v", p.AccuracyM)
	}
	if p.TakenAt.IsZero() || p.TakenAt.Location() != time.UTC || p.ObservedAt.Location() != time.UTC ||
		(p.ExpiresAt != nil && p.ExpiresAt.Location() != time.UTC) {
		fail("times not UTC: %v %v %v", p.TakenAt, p.ObservedAt, p.ExpiresAt)
	}
	strs := []string{p.Source, p.SourceID, p.PlaceName, p.Caption, p.Language, a.SourceID, a.Handle, a.DisplayName, a.AvatarURL, a.Bio}
	strs = append(append(append(strs, p.Hashtags...), p.Mentions...), p.MediaURLs...)
	for _, s := range strs {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			fail("string %q is not valid UTF-8 or holds NUL", s)
		}
	}
	if hasControl(a.Handle) || strings.HasPrefix(a.Handle, "@") {
		fail("handle %q", a.Handle)
	}
	for i, tags := range [][]string{p.Hashtags, p.Mentions} {
		if tags != nil && len(tags) == 0 {
			fail("empty list is not nil")
		}
		seen := map[string]bool{}
		for _, s := range tags {
			if s == "" || s != strings.ToLower(s) || s[0] == "#@"[i] || seen[s] || hasControl(s) ||
				strings.TrimFunc(s, unicode.IsSpace) != s {
				fail("tag %q not normalised in %q", s, tags)
			}
			seen[s] = true
		}
	}
	if p.MediaURLs != nil && len(p.MediaURLs) == 0 {
		fail("empty media list is not nil")
	}
	for _, u := range p.MediaURLs {
		if !httpURL(u) {
			fail("media URL %q", u)
		}
	}
	if a.AvatarURL != "" && !httpURL(a.AvatarURL) {
		fail("avatar URL %q", a.AvatarURL)
	}
	if p.Likes < 0 || p.Comments < 0 || p.Views < 0 || a.Followers < 0 || a.Following < 0 || a.PostsCount < 0 {
		fail("negative count")
	}
	if p.Cell != 0 || p.PlaceIDs != nil || p.Expired || !a.UpdatedAt.IsZero() {
		fail("pipeline fields set")
	}
	var b bytes.Buffer
	if err := canonical.Encode(&b, p); err != nil {
		fail("encode: %v", err)
	}
	again, err := canonical.DecodePost(b.Bytes(), canonical.Limits{MaxItemBytes: 1 << 20})
	if err != nil {
		fail("canonical decoder refuses %s: %v", b.Bytes(), err)
	}
	if !reflect.DeepEqual(again, p) {
		fail("canonical round trip differs:\n got  %+v\n want %+v", again, p)
	}
}

func CheckEvent(t testing.TB, ev *geopulse.ComplianceEvent, wantSource string) {
	t.Helper()
	if !ev.Kind.Valid() || ev.Source == "" || (wantSource != "" && ev.Source != wantSource) {
		t.Fatalf("event kind %q source %q", ev.Kind, ev.Source)
	}
	if ev.Kind == geopulse.ComplianceDeletePost && ev.SourceID == "" ||
		ev.Kind != geopulse.ComplianceDeletePost && ev.AuthorSourceID == "" {
		t.Fatalf("event without its ids: %+v", ev)
	}
	for _, id := range []string{ev.SourceID, ev.AuthorSourceID} {
		if len(id) > 256 || hasControl(id) || !utf8.ValidString(id) {
			t.Fatalf("bad id %q", id)
		}
	}
	if ev.At.Location() != time.UTC || ev.UpTo.Location() != time.UTC {
		t.Fatalf("event times not UTC: %+v", ev)
	}
}

func hasControl(s string) bool {
	return strings.ContainsFunc(s, unicode.IsControl)
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		!strings.ContainsFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) })
}

// DecodeAll decodes input with dec, checking every item, and returns the
// items and Decode's error.
func DecodeAll(t testing.TB, dec source.DecodeFunc, input []byte, wantSource string) ([]source.Item, error) {
	t.Helper()
	var items []source.Item
	err := dec(bytes.NewReader(input), func(it source.Item) error {
		CheckItem(t, it, wantSource)
		if it.Index != len(items) {
			t.Fatalf("index %d, want %d", it.Index, len(items))
		}
		items = append(items, it)
		return nil
	})
	if err != nil {
		CheckRejection(t, err)
	}
	return items, err
}

// Describe renders an item on one line for golden files and messages.
func Describe(it source.Item) string {
	switch {
	case it.Err != nil:
		return fmt.Sprintf("#%d error %s/%s: %s", it.Index, geopulse.ErrorCode(it.Err), geopulse.ErrorReason(it.Err), geopulse.ErrorMessage(it.Err))
	case it.Event != nil:
		return fmt.Sprintf("#%d event %s", it.Index, canonical.AppendEventJSON(nil, it.Event))
	default:
		return fmt.Sprintf("#%d post %s", it.Index, canonical.AppendJSON(nil, it.Post))
	}
}

// Near reports whether a and b differ by at most tol.
func Near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }
