package geopulse_test

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

func TestSubjectRefValidate(t *testing.T) {
	tests := []struct {
		name   string
		ref    geopulse.SubjectRef
		reason string // "" when valid
	}{
		{"handle", geopulse.SubjectRef{Source: "insta", Handle: "jane"}, ""},
		{"handle with @", geopulse.SubjectRef{Source: "insta", Handle: "@Jane"}, ""},
		{"source id", geopulse.SubjectRef{Source: "x", SourceID: "12345"}, ""},
		{"no source", geopulse.SubjectRef{Handle: "jane"}, geopulse.ReasonMissingField},
		{"neither", geopulse.SubjectRef{Source: "x"}, geopulse.ReasonMissingField},
		{"both", geopulse.SubjectRef{Source: "x", Handle: "jane", SourceID: "1"}, geopulse.ReasonInvalidField},
		{"only @", geopulse.SubjectRef{Source: "x", Handle: "@@"}, geopulse.ReasonInvalidField},
		{"control character", geopulse.SubjectRef{Source: "x", Handle: "ja\nne"}, geopulse.ReasonInvalidField},
		{"C1 control character", geopulse.SubjectRef{Source: "x", SourceID: "1\u0085"}, geopulse.ReasonInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.ref.Validate()
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("valid reference refused: %v", err)
				}
				return
			}
			if geopulse.ErrorCode(err) != geopulse.EINVALID || geopulse.ErrorReason(err) != tt.reason {
				t.Fatalf("error = %v, want EINVALID %s", err, tt.reason)
			}
		})
	}
}

func TestSubjectRefKeys(t *testing.T) {
	tests := []struct {
		name  string
		ref   geopulse.SubjectRef
		key   int64
		match map[string]bool // handle → MatchesHandle
	}{
		{"handle", geopulse.SubjectRef{Source: "insta", Handle: "@Jane.Doe"}, geopulse.HandleKey("insta", "jane.doe"),
			map[string]bool{"jane.doe": true, "@@JANE.DOE": true, "jane": false, "jane.doe ": false, "": false}},
		{"source id", geopulse.SubjectRef{Source: "insta", SourceID: "17841"}, geopulse.SuppressionKey("insta", "17841"),
			map[string]bool{"17841": false, "jane": false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.ref.Key(); got != tt.key {
				t.Fatalf("key = %d, want %d", got, tt.key)
			}
			for h, want := range tt.match {
				if got := tt.ref.MatchesHandle(h); got != want {
					t.Errorf("MatchesHandle(%q) = %v, want %v", h, got, want)
				}
			}
		})
	}
	// A handle's key and an account's key live in one suppression list:
	// they must not collide when the handle equals an account id.
	if geopulse.HandleKey("x", "123") == geopulse.SuppressionKey("x", "123") {
		t.Fatal("handle and account keys collide")
	}
}

// TestSubjectReportJSON pins the report's field names and that empty
// lists are [] (a person reads it; null says "unknown", not "none").
func TestSubjectReportJSON(t *testing.T) {
	at := time.Date(2026, 3, 2, 12, 0, 0, 0, time.FixedZone("CET", 3600))
	exp := at.Add(time.Hour)
	p := &geopulse.Post{ID: 7, Source: "insta", SourceID: "p1", Kind: geopulse.KindStory, ObservedAt: at, TakenAt: at,
		Author: geopulse.Author{ID: 9}, Cell: 42, Language: "fr", ExpiresAt: &exp}
	rep := geopulse.SubjectReport{
		Ref:     geopulse.SubjectRef{Source: "insta", Handle: "jane"},
		Authors: []geopulse.SubjectAuthor{geopulse.NewSubjectAuthor(geopulse.Author{ID: 9, Source: "insta", UpdatedAt: at}, nil, nil)},
		Posts:   []geopulse.SubjectPost{geopulse.NewSubjectPost(p)},
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`"ref":{"source":"insta","handle":"jane"}`,
		`"stats":[]`, `"suppressed":[]`, `"updated_at":"2026-03-02T11:00:00Z"`,
		`"source_id":"p1","observed_at":"2026-03-02T11:00:00Z","author_id":9`,
		`"media_urls":[]`, `"place_ids":[]`, `"expires_at":"2026-03-02T12:00:00Z"`,
		`"derived":{"cell":42,"hashtags":[],"mentions":[],"language":"fr","sentiment":0,"labels":[]}`,
		`"suppressed":null`, // the report's own, which Access always fills
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("report JSON lacks %s:\n%s", want, b)
		}
	}
}

// TestErasureReceiptJSON pins the receipt's field names.
func TestErasureReceiptJSON(t *testing.T) {
	rc := geopulse.ErasureReceipt{Action: geopulse.SubjectErasure, Ref: geopulse.ReceiptRef{Source: "x", AccountKeys: []int64{1}, HandleKeys: []int64{2}},
		At: time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC), AuthorsRemoved: 1, PostsRemoved: 3, StreamMessagesRemoved: 4, DeadLettersRemoved: 1, Suppressed: true}
	b, err := json.Marshal(rc)
	if err != nil {
		t.Fatal(err)
	}
	want := `{"action":"erasure","ref":{"source":"x","account_keys":[1],"handle_keys":[2]},"at":"2026-03-02T12:00:00Z",` +
		`"authors_removed":1,"posts_removed":3,"stream_messages_removed":4,"dead_letters_removed":1,"media_removed":0,"suppressed":true}`
	if string(b) != want {
		t.Fatalf("receipt JSON\n got %s\nwant %s", b, want)
	}
}
