package http

import (
	"net/url"
	"testing"

	"github.com/geopulse/geopulse"
)

// FuzzFeedQuery: any query string parses into a filter or a 400 naming a
// parameter; it never panics and never yields a filter that breaks the
// store's preconditions.
func FuzzFeedQuery(f *testing.F) {
	for _, s := range []string{
		"",
		"place=1,2&kind=photo,story&from=2025-05-01T00:00:00Z&to=2025-06-01T00:00:00Z",
		"bbox=2.2,48.8,2.3,48.9&limit=500",
		"near=48.85,2.29&radius_m=300&min_followers=1000",
		`polygon={"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,1],[0,0]]]}`,
		"bbox=NaN,1,2,3&near=1,2",
		"limit=-1&hashtag=%23Art&q=x&cursor=abc",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		v, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		q, err := feedQueryFromURL(v)
		if err == nil {
			var filter geopulse.PostFilter
			filter, err = q.filter(7)
			if err == nil {
				if filter.WorkspaceID != 7 || filter.Limit < 1 || filter.Limit > maxFeedLimit || filter.MinFollowers < 0 {
					t.Fatalf("bad filter %+v from %q", filter, raw)
				}
				if a := filter.Area; a != nil && (a.MinLat > a.MaxLat || a.MinLon > a.MaxLon) {
					t.Fatalf("inverted area %+v from %q", a, raw)
				}
				return
			}
		}
		if geopulse.ErrorCode(err) != geopulse.EINVALID || geopulse.ErrorReason(err) == "" {
			t.Fatalf("error %v for %q is not a client error with a reason", err, raw)
		}
	})
}
