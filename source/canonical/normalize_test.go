package canonical_test

import (
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// TestNormalize: a connector's post comes back in canonical form, and a bad
// one is rejected with the canonical reason, prefixed by the item's name.
func TestNormalize(t *testing.T) {
	var buf []byte
	p := &geopulse.Post{Source: "x", SourceID: "1", TakenAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Lat: 1, Lon: 2, Author: geopulse.Author{SourceID: "a", Handle: "@Ann"}, Hashtags: []string{"#Coffee", "coffee"}}
	q, err := canonical.Normalize(p, canonical.ConnectorLimits, &buf, "tweet 1")
	if err != nil {
		t.Fatal(err)
	}
	if q.ID != geopulse.PostID("x", "1") || q.Author.Handle != "Ann" || len(q.Hashtags) != 1 || q.Hashtags[0] != "coffee" {
		t.Fatalf("normalised = %+v", q)
	}
	p.Lat = 91
	_, err = canonical.Normalize(p, canonical.ConnectorLimits, &buf, "tweet 1")
	if err == nil || err.Reason != geopulse.ReasonInvalidCoordinates || !strings.HasPrefix(err.Message, "tweet 1: ") {
		t.Fatalf("bad post: %v", err)
	}
}
