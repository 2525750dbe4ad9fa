package instaloader_test

import (
	"bytes"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/canonical"
)

// reasons are the rejection reasons a decoder of this package may give.
var reasons = map[string]bool{
	geopulse.ReasonMalformedJSON: true, geopulse.ReasonInvalidField: true, geopulse.ReasonMissingField: true,
	geopulse.ReasonInvalidCoordinates: true, geopulse.ReasonInvalidUTF8: true, geopulse.ReasonTooLarge: true,
	geopulse.ReasonNoLocation: true, geopulse.ReasonUnsupported: true,
}

// checkRejection fails unless err is a coded, user-presentable rejection.
func checkRejection(t testing.TB, err error) {
	t.Helper()
	var ge *geopulse.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v is not a *geopulse.Error", err)
	}
	if (ge.Code != geopulse.EINVALID && ge.Code != geopulse.ETOOLARGE) || !reasons[ge.Reason] || ge.Message == "" {
		t.Fatalf("error without a valid code, reason or message: %#v", ge)
	}
	if !utf8.ValidString(ge.Message) {
		t.Fatalf("message is not valid UTF-8: %q", ge.Message)
	}
}

// checkInvariants fails unless p meets every invariant of the canonical
// decoder (source/canonical/doc.go) and survives the trip the pipeline puts
// it through: canonical encoding, then canonical decoding, unchanged.
func checkInvariants(t testing.TB, p *geopulse.Post) {
	t.Helper()
	a := &p.Author
	if p.Source != "instagram" || a.Source != p.Source {
		t.Fatalf("source %q, author source %q", p.Source, a.Source)
	}
	if p.SourceID == "" || a.SourceID == "" || len(p.SourceID) > 256 || len(a.SourceID) > 256 {
		t.Fatalf("bad ids %q %q", p.SourceID, a.SourceID)
	}
	if p.ID != geopulse.PostID(p.Source, p.SourceID) || a.ID != geopulse.AuthorID(p.Source, a.SourceID) {
		t.Fatalf("ids not derived: %d %d", p.ID, a.ID)
	}
	if !p.Kind.Valid() || !p.LocationFrom.Valid() {
		t.Fatalf("kind %q, location from %q", p.Kind, p.LocationFrom)
	}
	if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
		t.Fatalf("coordinates %v, %v", p.Lat, p.Lon)
	}
	if !(p.AccuracyM >= 0) || math.IsInf(p.AccuracyM, 0) {
		t.Fatalf("accuracy %v", p.AccuracyM)
	}
	if p.TakenAt.Location() != time.UTC || p.ObservedAt.Location() != time.UTC {
		t.Fatalf("times not UTC: %v %v", p.TakenAt, p.ObservedAt)
	}
	if p.ExpiresAt != nil && (p.ExpiresAt.Location() != time.UTC || p.Kind != geopulse.KindStory) {
		t.Fatalf("expires_at %v on a %s", p.ExpiresAt, p.Kind)
	}
	if p.Cell != 0 || p.PlaceIDs != nil || p.Expired || !a.UpdatedAt.IsZero() {
		t.Fatalf("pipeline fields set: %+v", p)
	}
	for _, s := range []string{p.SourceID, a.SourceID, a.Handle} {
		for _, r := range s {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("control character in id or handle %q", s)
			}
		}
	}
	if strings.HasPrefix(a.Handle, "@") {
		t.Fatalf("handle %q keeps its '@'", a.Handle)
	}
	strs := []string{p.Source, p.SourceID, p.PlaceName, p.Caption, p.Language, a.SourceID, a.Handle, a.DisplayName, a.AvatarURL, a.Bio}
	strs = append(append(append(strs, p.Hashtags...), p.Mentions...), p.MediaURLs...)
	for _, s := range strs {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("string %q is not valid UTF-8 or holds NUL", s)
		}
	}
	if utf8.RuneCountInString(p.Caption) > canonical.DefaultLimits.MaxCaption {
		t.Fatalf("caption of %d runes", utf8.RuneCountInString(p.Caption))
	}
	for i, tags := range [][]string{p.Hashtags, p.Mentions} {
		if tags != nil && len(tags) == 0 || len(tags) > canonical.DefaultLimits.MaxListLen {
			t.Fatalf("tag list of %d (nil %v)", len(tags), tags == nil)
		}
		seen := map[string]bool{}
		for _, s := range tags {
			if s == "" || s != strings.ToLower(s) || s[0] == "#@"[i] || seen[s] {
				t.Fatalf("tag %q not normalised in %q", s, tags)
			}
			seen[s] = true
		}
	}
	if p.MediaURLs != nil && len(p.MediaURLs) == 0 || len(p.MediaURLs) > canonical.DefaultLimits.MaxListLen {
		t.Fatalf("media list of %d", len(p.MediaURLs))
	}
	for _, u := range append([]string{a.AvatarURL}, p.MediaURLs...) {
		lu := strings.ToLower(u)
		if u != "" && !strings.HasPrefix(lu, "https://") && !strings.HasPrefix(lu, "http://") {
			t.Fatalf("URL %q is not absolute http(s)", u)
		}
	}
	if p.Likes < 0 || p.Comments < 0 || p.Views < 0 || a.Followers < 0 || a.Following < 0 || a.PostsCount < 0 {
		t.Fatalf("negative count in %+v", p)
	}
	enc := canonical.AppendJSON(nil, p)
	again, err := canonical.DecodePost(enc, canonical.Limits{MaxItemBytes: 1 << 20})
	if err != nil {
		t.Fatalf("canonical decoding refuses the post: %v\n%s", err, enc)
	}
	if !reflect.DeepEqual(again, p) {
		t.Fatalf("canonical round trip differs:\n got  %+v\n want %+v", again, p)
	}
}

// result is what a decoding produced.
type result struct {
	items []source.Item
	err   error
}

// posts returns the decoded posts.
func (r result) posts() []*geopulse.Post {
	var out []*geopulse.Post
	for _, it := range r.items {
		if it.Post != nil {
			out = append(out, it.Post)
		}
	}
	return out
}

// reasons returns each item's outcome: "" for a post, else the reason.
func (r result) reasons() []string {
	out := make([]string, len(r.items))
	for i, it := range r.items {
		out[i] = geopulse.ErrorReason(it.Err)
	}
	return out
}

// decode runs dec on data and checks what every decoding must satisfy:
// one outcome per item, indexes in order, posts that meet the invariants,
// rejections that are coded.
func decode(t testing.TB, dec source.DecodeFunc, data []byte) result {
	t.Helper()
	var res result
	res.err = dec(bytes.NewReader(data), func(it source.Item) error {
		if it.Index != len(res.items) {
			t.Fatalf("item index %d, want %d", it.Index, len(res.items))
		}
		n := 0
		for _, set := range []bool{it.Post != nil, it.Event != nil, it.Err != nil} {
			if set {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("item %d: exactly one of Post, Event and Err must be set: %+v", it.Index, it)
		}
		if it.Err != nil {
			checkRejection(t, it.Err)
		} else if it.Post != nil {
			checkInvariants(t, it.Post)
		}
		res.items = append(res.items, it)
		return nil
	})
	if res.err != nil {
		checkRejection(t, res.err)
	}
	return res
}

func readFile(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// countReasons summarises outcomes as reason → count ("" counts posts).
func countReasons(rs []string) map[string]int {
	m := map[string]int{}
	for _, r := range rs {
		m[r]++
	}
	return m
}
