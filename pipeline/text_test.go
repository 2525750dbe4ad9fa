package pipeline_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/duckdb"
	"github.com/geopulse/geopulse/pipeline"
	"github.com/geopulse/geopulse/text"
	"github.com/geopulse/geopulse/vision/onnx"
)

// The pipeline reads each post's words with the place's category: language,
// sentiment, brands and interests reach the store and the feed filters.
func TestIngestReadsText(t *testing.T) {
	an, err := text.Load(filepath.Join(onnx.AssetsDir(), "text"))
	if err != nil {
		if os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
			t.Skipf("text assets: %v (run make ml-assets)", err)
		}
		t.Fatal(err)
	}
	ctx := t.Context()
	clock := func() time.Time { return now }
	db, err := duckdb.Open(ctx, filepath.Join(t.TempDir(), "test.duckdb"), duckdb.Options{Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	pl, err := pipeline.New(ctx, db, pipeline.Options{Now: clock, Text: an})
	if err != nil {
		t.Fatal(err)
	}
	ws := &geopulse.Workspace{Name: "acme"}
	if err := db.CreateWorkspace(ctx, ws); err != nil {
		t.Fatal(err)
	}
	cafe := &geopulse.Place{WorkspaceID: ws.ID, Name: "Corner", Category: "amenity/cafe", Center: &geopulse.LatLon{Lat: 51.5, Lon: -0.12}, RadiusM: 200}
	if err := pl.Places().CreatePlace(ctx, cafe); err != nil {
		t.Fatal(err)
	}
	happy := post("happy", 51.5, -0.12)
	happy.Caption = "Loving this amazing flat white from Starbucks, best morning ever"
	sad := post("sad", 51.5, -0.12)
	sad.Caption = "Worst service, cold food and a terrible wait. Never again."
	errs, err := pl.Ingest(ctx, []*geopulse.Post{happy, sad})
	if err != nil || errs[0] != nil || errs[1] != nil {
		t.Fatalf("ingest: %v %v", err, errs)
	}
	page, _, err := db.FindPosts(ctx, geopulse.PostFilter{WorkspaceID: ws.ID, Brand: "starbucks", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 1 || page[0].SourceID != "happy" {
		t.Fatalf("brand filter: %v, want the happy post", ids(page))
	}
	got := page[0]
	if got.Language != "en" || got.Sentiment <= 0.2 {
		t.Errorf("happy post: language %q sentiment %v, want en and clearly positive", got.Language, got.Sentiment)
	}
	page, _, err = db.FindPosts(ctx, geopulse.PostFilter{WorkspaceID: ws.ID, Interest: "coffee", Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(page) != 2 {
		// Both posts are at a cafe: the place's category is a signal.
		t.Errorf("interest coffee: %v, want both posts at the cafe", ids(page))
	}
	for _, p := range page {
		if p.SourceID == "sad" && p.Sentiment >= -0.2 {
			t.Errorf("sad post sentiment %v, want clearly negative", p.Sentiment)
		}
	}
}
