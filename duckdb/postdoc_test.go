package duckdb

import (
	"reflect"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

func TestDocRoundTrip(t *testing.T) {
	p := &geopulse.Post{
		ID: 7, Source: "in\"sta", SourceID: "x\\1", ObservedAt: time.Date(2025, 1, 2, 3, 4, 5, 123456000, time.UTC),
		Cell: -8070450532247928832, PlaceName: "Café\n", Caption: "cap 🌅", Hashtags: []string{"a", "é"},
		Mentions: []string{"m"}, MediaURLs: []string{"https://x/y?z=1&w=2"}, Likes: 1 << 50, Comments: -1, Views: 3,
		Language: "fr", Sentiment: -0.75, Labels: []geopulse.Label{
			{Kind: geopulse.LabelBrand, Name: "caf\u00e9 \"x\"", Score: 0.125, Origin: geopulse.OriginText, Model: "nsi", Version: "6"},
			{Kind: geopulse.LabelInterest, Name: "pets", Score: 1, Origin: geopulse.OriginText},
		},
	}
	var got geopulse.Post
	got.ID = p.ID
	if err := decodeDoc(&got, encodeDoc(p)); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(&got, p) {
		t.Fatalf("doc round trip:\n got %+v\nwant %+v", got, *p)
	}
	a := &geopulse.Author{ID: 9, Source: "s", SourceID: "u\x00", Handle: "h", DisplayName: "D 🌸", AvatarURL: "u",
		Bio: "b\tb", Verified: true, Business: false}
	var ga geopulse.Author
	ga.ID = a.ID
	if err := decodeCard(&ga, encodeCard(a)); err != nil {
		t.Fatal(err)
	}
	if ga != *a {
		t.Fatalf("card round trip:\n got %+v\nwant %+v", ga, *a)
	}
}

func TestCursor(t *testing.T) {
	c := cursor{takenAt: time.Date(2025, 6, 1, 2, 3, 4, 5000, time.UTC), id: 1<<62 + 5}
	got, err := decodeCursor(c.encode())
	if err != nil || *got != c {
		t.Fatalf("cursor round trip = %+v, %v; want %+v", got, err, c)
	}
	farFuture := cursor{takenAt: time.Date(20000, 1, 1, 0, 0, 0, 0, time.UTC), id: 1}.encode()
	for _, bad := range []string{"", "=", "AAAAAAAAAAAAAAAAAAAAAA", "not base64!", c.encode() + "A", farFuture} {
		if _, err := decodeCursor(bad); geopulse.ErrorCode(err) != geopulse.EINVALID {
			t.Fatalf("decode %q: %v, want EINVALID", bad, err)
		}
	}
}
