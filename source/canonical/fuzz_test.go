package canonical_test

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// FuzzDecode feeds arbitrary bodies to Decode and DecodePost, under default
// and tiny limits. Nothing may panic; every rejection must be a coded
// *geopulse.Error; every accepted post must satisfy the package invariants
// and survive Encode → DecodePost unchanged.
func FuzzDecode(f *testing.F) {
	valid := with()
	full := canonical.AppendJSON(nil, fullPost())
	seeds := []string{
		valid,
		string(full),
		valid + "\n" + with("location.lat", 100) + "\n\n{bad\n" + string(full) + "\n",
		"[" + valid + "," + string(full) + ", 3, null]",
		"\xef\xbb\xbf" + valid,
		"",
		"[",
		"{",
		"[]",
		`{"v":2}`,
		`{"v":1e999,"source":"x"}`,
		`{"source":"\ud800","source_id":"\udc00\ud800","caption":"\u0000"}`,
		`{"location":{"lat":1e400,"lon":-1e400,"accuracy_m":-0}}`,
		with("hashtags", []any{"#A", "a", " ##B ", "\u0130", "ß", "ǅ"}),
		with("extra", map[string]any{"a": []any{[]any{[]any{map[string]any{}}}}}),
		strings.Repeat("[", 100) + strings.Repeat("]", 100),
		strings.Replace(valid, "Flat", "Fl\xffat", 1),
		valid + "\r\n" + valid + "\r\n",
		`{"source":"x","source_id":"1","taken_at":"2026-11-28T10:00:00.999999999+14:00","location":{"lat":-90,"lon":180},"author":{"source_id":"a"},"kind":"story","expires_at":"9999-12-31T23:59:59Z"}`,
		`{"source":"x","source_id":"1","taken_at":"0000-01-01T00:00:00Z","location":{"lat":0,"lon":0},"author":{"source_id":"a","handle":"@@"},"likes":9223372036854775807,"views":1e18}`,
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	limits := []canonical.Limits{{}, {MaxItemBytes: 512, MaxCaption: 16, MaxItems: 8, MaxListLen: 3}}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, lim := range limits {
			err := canonical.Decode(bytes.NewReader(data), lim, func(it canonical.Item) error {
				if (it.Post == nil) == (it.Err == nil) {
					t.Fatalf("item %d: exactly one of Post and Err must be set", it.Index)
				}
				if it.Err != nil {
					checkRejection(t, it.Err)
				} else {
					checkPost(t, it.Post, lim)
				}
				return nil
			})
			if err != nil {
				checkRejection(t, err)
			}
			p, err := canonical.DecodePost(data, lim)
			if err != nil {
				checkRejection(t, err)
			} else {
				checkPost(t, p, lim)
			}
		}
	})
}

func checkRejection(t *testing.T, err error) {
	t.Helper()
	var ge *geopulse.Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %v is not a *geopulse.Error", err)
	}
	if (ge.Code != geopulse.EINVALID && ge.Code != geopulse.ETOOLARGE) || ge.Reason == "" || ge.Message == "" {
		t.Fatalf("error without code, reason or message: %#v", ge)
	}
	if !utf8.ValidString(ge.Message) {
		t.Fatalf("message is not valid UTF-8: %q", ge.Message)
	}
}

func checkPost(t *testing.T, p *geopulse.Post, lim canonical.Limits) {
	t.Helper()
	if lim.MaxCaption == 0 {
		lim = canonical.DefaultLimits
	}
	if !(p.Lat >= -90 && p.Lat <= 90 && p.Lon >= -180 && p.Lon <= 180) {
		t.Fatalf("coordinates %v, %v", p.Lat, p.Lon)
	}
	if !(p.AccuracyM >= 0) || math.IsInf(p.AccuracyM, 0) {
		t.Fatalf("accuracy %v", p.AccuracyM)
	}
	a := &p.Author
	strs := []string{p.Source, p.SourceID, string(p.Kind), p.PlaceName, p.Caption, p.Language,
		a.Source, a.SourceID, a.Handle, a.DisplayName, a.AvatarURL, a.Bio}
	strs = append(append(append(strs, p.Hashtags...), p.Mentions...), p.MediaURLs...)
	for _, s := range strs {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("string %q is not valid UTF-8 or holds NUL", s)
		}
	}
	if p.Source == "" || p.SourceID == "" || a.SourceID == "" || len(p.Source) > 256 || len(p.SourceID) > 256 {
		t.Fatalf("bad ids %q %q %q", p.Source, p.SourceID, a.SourceID)
	}
	if utf8.RuneCountInString(p.Caption) > lim.MaxCaption {
		t.Fatalf("caption of %d runes", utf8.RuneCountInString(p.Caption))
	}
	for _, list := range [][]string{p.Hashtags, p.Mentions, p.MediaURLs} {
		if len(list) > lim.MaxListLen || (list != nil && len(list) == 0) {
			t.Fatalf("list of %d (nil %v)", len(list), list == nil)
		}
	}
	for i, tags := range [][]string{p.Hashtags, p.Mentions} {
		seen := map[string]bool{}
		for _, s := range tags {
			if s == "" || s != strings.ToLower(s) || s[0] == "#@"[i] || seen[s] {
				t.Fatalf("tag %q not normalised in %q", s, tags)
			}
			seen[s] = true
		}
	}
	if !p.Kind.Valid() {
		t.Fatalf("kind %q", p.Kind)
	}
	for _, tm := range []time.Time{p.TakenAt, p.ObservedAt} {
		if tm.Location() != time.UTC {
			t.Fatalf("time %v not UTC", tm)
		}
	}
	if p.ExpiresAt != nil && p.ExpiresAt.Location() != time.UTC {
		t.Fatalf("expires_at %v not UTC", p.ExpiresAt)
	}
	if p.Likes < 0 || p.Comments < 0 || p.Views < 0 || a.Followers < 0 || a.Following < 0 || a.PostsCount < 0 {
		t.Fatalf("negative count in %+v", p)
	}
	if p.ID != geopulse.PostID(p.Source, p.SourceID) || a.ID != geopulse.AuthorID(p.Source, a.SourceID) || a.Source != p.Source {
		t.Fatalf("ids not derived: %+v", p)
	}
	var b bytes.Buffer
	if err := canonical.Encode(&b, p); err != nil {
		t.Fatalf("encode accepted post: %v", err)
	}
	// Encoding may lengthen the item (defaults written out, escapes), so
	// only the item size limit is relaxed for the second decoding.
	lim.MaxItemBytes = 1 << 20
	again, err := canonical.DecodePost(b.Bytes(), lim)
	if err != nil {
		t.Fatalf("re-decode %s: %v", b.Bytes(), err)
	}
	if !reflect.DeepEqual(again, p) {
		t.Fatalf("round trip differs:\n got  %+v\n want %+v", again, p)
	}
}
