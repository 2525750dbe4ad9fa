package audience_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/audience"
	"github.com/geopulse/geopulse/duckdb"
)

var now = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// world is a workspace with a busy café (authors 0..n-1 post there),
// a quiet bar (the first 30 of them) and a clinic (sensitive).
type world struct {
	s                   *duckdb.DB
	ws                  int64
	cafe, bar, clinic   *geopulse.Place
	hidden              geopulse.Author
	svc                 *audience.Service
	withHidden, authors int
}

// newWorld builds the world with n authors, follower counts 1000+i; the
// author "hidden" (followers 50_000) is added when withHidden is set.
func newWorld(t *testing.T, n int, withHidden bool) *world {
	t.Helper()
	ctx := context.Background()
	s, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "a.duckdb"), duckdb.Options{Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w := &world{s: s, svc: &audience.Service{Store: s, Now: func() time.Time { return now }}}
	ws := &geopulse.Workspace{Name: "acme"}
	if err := s.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	w.ws = ws.ID
	venue := func(name, cat string, lat float64) *geopulse.Place {
		p := &geopulse.Place{WorkspaceID: ws.ID, Name: name, Category: cat, Center: &geopulse.LatLon{Lat: lat, Lon: 2.35}, RadiusM: 100,
			BBox: geopulse.BBox{MinLat: lat - 0.001, MinLon: 2.349, MaxLat: lat + 0.001, MaxLon: 2.351}, Groups: []string{"mine"}}
		if err := s.CreatePlace(ctx, p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	w.cafe, w.bar, w.clinic = venue("Café", "amenity=cafe", 48.85), venue("Bar", "amenity=bar", 48.86), venue("Clinic", "amenity=clinic", 48.87)
	var posts []*geopulse.Post
	post := func(a geopulse.Author, i int, p *geopulse.Place, interest string) {
		at := now.Add(-time.Duration(i%4+1) * 7 * 24 * time.Hour) // one hour of the week
		posts = append(posts, &geopulse.Post{
			Source: "insta", SourceID: fmt.Sprintf("%s-%s-%d", a.Handle, p.Name, i), Kind: geopulse.KindPhoto, Author: a,
			TakenAt: at, ObservedAt: at, Lat: p.Center.Lat, Lon: 2.35, Language: "en", PlaceIDs: []int64{p.ID},
			Labels: []geopulse.Label{{Kind: geopulse.LabelInterest, Name: interest, Origin: geopulse.OriginText, Score: 1, Model: "t", Version: "1"}},
		})
	}
	for i := range n {
		a := geopulse.Author{Source: "insta", SourceID: fmt.Sprint("u", i), Handle: fmt.Sprint("user", i), Followers: int64(1000 + i)}
		post(a, i, w.cafe, "coffee")
		if i < 30 {
			post(a, i, w.bar, "nightlife")
		}
		post(a, i+7, w.clinic, "health")
	}
	w.hidden = geopulse.Author{Source: "insta", SourceID: "hidden", Handle: "hidden", Followers: 50_000}
	if withHidden {
		post(w.hidden, 1, w.cafe, "coffee")
	}
	if errs, err := s.UpsertPosts(ctx, posts); err != nil || errs[0] != nil {
		t.Fatal(err, errs)
	}
	if _, err := s.RefreshProfiles(ctx, now, 0, true); err != nil {
		t.Fatal(err)
	}
	return w
}

func TestInsightFloors(t *testing.T) {
	w := newWorld(t, 160, false)
	ctx := context.Background()
	in, err := w.svc.Insight(ctx, w.ws, geopulse.AudienceCriteria{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if in.Suppressed || math.Abs(float64(in.Authors-160)) > 30 {
		t.Fatalf("size = %+v, want about 160", in.Size)
	}
	for _, row := range in.Interests {
		if row.Term == "nightlife" || row.Term == "health" {
			// nightlife: 30 authors, under k = 50; health: only from the
			// sensitive clinic, never in a profile.
			t.Errorf("row %q shown: %+v", row.Term, in.Interests)
		}
		if row.Authors < 50 || row.Authors%audience.Rounding != 0 {
			t.Errorf("row %+v below k or not rounded", row)
		}
	}
	if len(in.Interests) != 1 || in.Interests[0].Term != "coffee" {
		t.Errorf("interests = %+v, want coffee only", in.Interests)
	}
	for _, p := range in.Places {
		if p.PlaceID != w.cafe.ID {
			t.Errorf("place %+v shown (bar has 30 authors; the clinic is sensitive)", p)
		}
	}
	// The same question gets the same answer: averaging learns nothing.
	again, err := w.svc.Insight(ctx, w.ws, geopulse.AudienceCriteria{}, 10)
	if err != nil || again.Authors != in.Authors || again.Interests[0].Authors != in.Interests[0].Authors {
		t.Fatalf("a repeated question got another answer: %+v vs %+v", again.Size, in.Size)
	}
	small, err := w.svc.Insight(ctx, w.ws, geopulse.AudienceCriteria{Places: []int64{w.bar.ID}}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if !small.Suppressed || small.Authors != 0 || small.Interests != nil {
		t.Fatalf("an audience of 30 shows %+v", small)
	}
	_, err = w.svc.Insight(ctx, w.ws, geopulse.AudienceCriteria{Places: []int64{w.clinic.ID}}, 10)
	if geopulse.ErrorCode(err) != geopulse.EINVALID {
		t.Fatalf("targeting a sensitive place: %v", err)
	}
	m, err := w.svc.CrossVisitation(ctx, w.ws, geopulse.AudienceCriteria{}, nil, "mine")
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Places) != 2 || m.Authors[0][0] == nil || m.Authors[0][1] != nil || m.Authors[1][1] != nil {
		t.Fatalf("matrix %+v: want the café shown, the bar (30) hidden", m)
	}
	traffic, err := w.svc.FootTraffic(ctx, w.ws, nil, now.AddDate(0, -1, 0), now)
	if err != nil {
		t.Fatal(err)
	}
	if len(traffic) != 1 || traffic[0].PlaceID != w.cafe.ID {
		t.Fatalf("traffic = %+v, want the café only", traffic)
	}
}

// keyed gives every question another noise key and epsilon: one trial of
// an attacker's experiment per key.
type keyed struct {
	geopulse.Store
	key []byte
	eps float64
}

func (k keyed) PrivacySettings(ctx context.Context, ws int64) (geopulse.PrivacySettings, error) {
	s, err := k.Store.PrivacySettings(ctx, ws)
	s.NoiseKey, s.Epsilon = k.key, k.eps
	return s, err
}

// TestHiddenIndividual: two worlds that differ by one author. An attacker
// sees the size of the audience "everyone at the café", and of the same
// audience minus an excluded near-copy (differencing). Over many noise
// keys the attacker's best guess of whether the hidden author exists is
// barely better than a coin, as epsilon promises; with noise turned
// (almost) off the same attack wins, which shows the test can fail.
func TestHiddenIndividual(t *testing.T) {
	with, without := newWorld(t, 152, true), newWorld(t, 152, false)
	ctx := context.Background()
	everyone := geopulse.AudienceCriteria{}
	capped := geopulse.AudienceCriteria{Followers: &geopulse.CountSpan{Max: 49_999}} // everyone but the hidden author
	attack := func(eps float64, trials int) (accuracy float64) {
		wins := 0
		for i := range trials {
			key := []byte(strconv.Itoa(i))
			guess := func(w *world) bool { // "the hidden author exists"
				svc := &audience.Service{Store: keyed{w.s, key, eps}, Now: w.svc.Now}
				a, err := svc.Size(ctx, w.ws, everyone)
				if err != nil {
					t.Fatal(err)
				}
				b, err := svc.Size(ctx, w.ws, capped)
				if err != nil {
					t.Fatal(err)
				}
				return a.Authors > b.Authors
			}
			if guess(with) {
				wins++
			}
			if !guess(without) {
				wins++
			}
		}
		return float64(wins) / float64(2*trials)
	}
	const trials = 300
	eps := geopulse.DefaultEpsilon
	bound := math.Exp(eps) / (1 + math.Exp(eps)) // the best any test can do under eps-DP
	if acc := attack(eps, trials); acc > bound+0.06 {
		t.Errorf("with epsilon %.1f the attacker is right %.0f%% of the time (bound %.0f%%)", eps, 100*acc, 100*bound)
	}
	if acc := attack(100, 40); acc < 0.9 {
		t.Errorf("without noise the attack should win, got %.0f%%: the experiment cannot tell", 100*acc)
	}
	// Rows: whether "coffee" is shown and its count behave the same way;
	// the floor is applied to the noisy count, so a row's appearance is
	// no giveaway either. One author changes an exact count by at most 1.
	a, err := with.s.AudienceStats(ctx, geopulse.AudienceQuery{WorkspaceID: with.ws, Now: now}, 100)
	if err != nil {
		t.Fatal(err)
	}
	b, err := without.s.AudienceStats(ctx, geopulse.AudienceQuery{WorkspaceID: without.ws, Now: now}, 100)
	if err != nil {
		t.Fatal(err)
	}
	if a.Authors-b.Authors != 1 || a.Interests[0].Authors-b.Interests[0].Authors != 1 {
		t.Fatalf("the worlds should differ by one author: %d/%d vs %d/%d", a.Authors, a.Interests[0].Authors, b.Authors, b.Interests[0].Authors)
	}
}

func TestExports(t *testing.T) {
	w := newWorld(t, 220, true)
	ctx := context.Background()
	for _, kind := range []string{audience.ExportGeo, audience.ExportInterests, audience.ExportInfluencers} {
		for _, format := range []string{audience.FormatCSV, audience.FormatParquet} {
			// Below the segment floor (100): 30 authors at the bar.
			_, err := w.svc.Export(ctx, w.ws, geopulse.AudienceCriteria{Places: []int64{w.bar.ID}}, kind, format)
			if geopulse.ErrorReason(err) != audience.ReasonBelowFloor {
				t.Errorf("%s/%s below the floor: %v", kind, format, err)
			}
			x, err := w.svc.Export(ctx, w.ws, geopulse.AudienceCriteria{}, kind, format)
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, format, err)
			}
			if format == audience.FormatParquet {
				if !bytes.HasPrefix(x.Body, []byte("PAR1")) || !bytes.HasSuffix(x.Body, []byte("PAR1")) {
					t.Errorf("%s parquet is not parquet", kind)
				}
				continue
			}
			rows, err := csv.NewReader(bytes.NewReader(x.Body)).ReadAll()
			if err != nil || len(rows) < 2 {
				t.Fatalf("%s csv: %v, %d rows", kind, err, len(rows))
			}
			for _, r := range rows[1:] {
				switch kind {
				case audience.ExportInfluencers:
					// Only the hidden author has 10k followers or more.
					if r[1] != "hidden" || len(rows) != 2 {
						t.Errorf("influencers = %v", rows)
					}
				default:
					if n, _ := strconv.Atoi(r[len(r)-1]); n < 50 {
						t.Errorf("%s row below k: %v", kind, r)
					}
				}
			}
		}
	}
	_, err := w.svc.Export(ctx, w.ws, geopulse.AudienceCriteria{Places: []int64{w.bar.ID}}, audience.ExportGeo, audience.FormatMeta)
	if geopulse.ErrorReason(err) != audience.ReasonBelowFloor {
		t.Errorf("geo/meta below the floor: %v", err)
	}
	x, err := w.svc.Export(ctx, w.ws, geopulse.AudienceCriteria{}, audience.ExportGeo, audience.FormatMeta)
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Targeting struct {
			GeoLocations struct {
				CustomLocations []struct {
					Latitude, Longitude, Radius float64
				} `json:"custom_locations"`
			} `json:"geo_locations"`
		} `json:"targeting"`
	}
	if err := json.Unmarshal(x.Body, &spec); err != nil || len(spec.Targeting.GeoLocations.CustomLocations) != 1 ||
		spec.Targeting.GeoLocations.CustomLocations[0].Radius < 1 {
		t.Fatalf("meta spec %s: %v", x.Body, err)
	}
	_, err = w.svc.Export(ctx, w.ws, geopulse.AudienceCriteria{}, audience.ExportInterests, audience.FormatMeta)
	if geopulse.ErrorCode(err) != geopulse.EINVALID {
		t.Fatalf("meta for interests: %v", err)
	}
}
