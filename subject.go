package geopulse

import (
	"context"
	"strings"
	"time"
)

// SubjectRef names the person behind a data-subject request (access,
// erasure, objection): an account of one source, by its public handle or by
// the source's account id. Exactly one of Handle and SourceID is set.
//
// A handle is what a person knows about themselves, so it is the usual way
// in; it is compared as HandleKey compares it (without '@', any case). A
// handle is not an identity, though: it names whichever stored accounts of
// the source carry it now, and a handle can pass from one person to another.
// The operator verifies who asks before acting (see privacy.Subjects).
type SubjectRef struct {
	Source   string `json:"source"`
	Handle   string `json:"handle,omitempty"`
	SourceID string `json:"source_id,omitempty"`
}

// Validate returns an EINVALID *Error unless the reference has a source and
// exactly one of a handle (not empty once '@' is trimmed) and a source id.
func (r SubjectRef) Validate() error {
	handle := strings.TrimLeft(r.Handle, "@")
	switch {
	case r.Source == "":
		return Reject(ReasonMissingField, "A data-subject request needs a source.")
	case r.Handle == "" && r.SourceID == "":
		return Reject(ReasonMissingField, "A data-subject request needs a handle or a source_id.")
	case r.Handle != "" && r.SourceID != "":
		return Reject(ReasonInvalidField, "A data-subject request names a handle or a source_id, not both.")
	case r.Handle != "" && handle == "":
		return Reject(ReasonInvalidField, "The handle is empty.")
	case hasControlChar(r.Source + handle + r.SourceID):
		return Reject(ReasonInvalidField, "A data-subject request must not contain control characters.")
	}
	return nil
}

// Key is the suppression key the reference names: HandleKey for a handle,
// SuppressionKey for a source id.
func (r SubjectRef) Key() int64 {
	if r.Handle != "" {
		return HandleKey(r.Source, r.Handle)
	}
	return SuppressionKey(r.Source, r.SourceID)
}

// MatchesHandle reports whether handle is the reference's handle, as the
// gate compares handles (HandleKey).
func (r SubjectRef) MatchesHandle(handle string) bool {
	return r.Handle != "" && normHandle(handle) == normHandle(r.Handle)
}

func normHandle(h string) string { return strings.ToLower(strings.TrimLeft(h, "@")) }

func hasControlChar(s string) bool {
	for _, c := range s {
		if c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) {
			return true
		}
	}
	return false
}

// SubjectStore is what data-subject requests read from a store. These are
// operator functions, not workspace queries: they see every workspace's
// data, so only the admin surface (CLI, admin token) may reach them.
type SubjectStore interface {
	// FindSubjectAuthors returns the stored authors a reference names: by
	// source id, that author if stored; by handle, every author of the
	// source whose card's handle matches (MatchesHandle). None is an empty
	// result, not ENOTFOUND: a person may ask before anything is stored.
	// EINVALID for a reference that does not validate.
	FindSubjectAuthors(ctx context.Context, ref SubjectRef) ([]Author, error)
	// SubjectPosts returns every stored post of the author, oldest first,
	// with the place ids of every workspace (the store's own view, for
	// access reports only, never for a workspace).
	SubjectPosts(ctx context.Context, authorID int64) ([]*Post, error)
	// SubjectStats returns the author's count history, oldest first,
	// whatever workspace saw it.
	SubjectStats(ctx context.Context, authorID int64) ([]AuthorStat, error)
	// SuppressionReasons returns the reasons key is suppressed for, sorted;
	// empty when it is not.
	SuppressionReasons(ctx context.Context, key int64) ([]string, error)
}

// SubjectReport answers an access request: everything stored about the
// person, derived data included, each item with where it came from (the
// source, its id there, when geopulse observed it). It is personal data:
// hand it to the verified person only.
type SubjectReport struct {
	Ref         SubjectRef      `json:"ref"`
	GeneratedAt time.Time       `json:"generated_at"`
	Authors     []SubjectAuthor `json:"authors"`
	Posts       []SubjectPost   `json:"posts"`
	// Suppressed lists why the reference's own key (Key) is suppressed.
	Suppressed []string `json:"suppressed"`
}

// SubjectAuthor is a stored author card with its count history.
type SubjectAuthor struct {
	ID          int64         `json:"id"`
	Source      string        `json:"source"`
	SourceID    string        `json:"source_id"`
	Handle      string        `json:"handle"`
	DisplayName string        `json:"display_name"`
	AvatarURL   string        `json:"avatar_url"`
	Bio         string        `json:"bio"`
	Followers   int64         `json:"followers"`
	Following   int64         `json:"following"`
	PostsCount  int64         `json:"posts_count"`
	Verified    bool          `json:"verified"`
	Business    bool          `json:"business"`
	Private     bool          `json:"private"`
	UpdatedAt   time.Time     `json:"updated_at"`
	Stats       []SubjectStat `json:"stats"`
	// Suppressed lists why the account (SuppressionKey) is suppressed.
	Suppressed []string `json:"suppressed"`
	// Profile is what geopulse derived from the person's posts (interests,
	// brands, place categories, active hours, home area), used only in
	// aggregates.
	Profile []ProfileTerm `json:"profile"`
}

// SubjectStat is one observation of an author's counts.
type SubjectStat struct {
	ObservedAt time.Time `json:"observed_at"`
	Followers  int64     `json:"followers"`
	Following  int64     `json:"following"`
	PostsCount int64     `json:"posts_count"`
}

// SubjectPost is a stored post as the person sees it: what the source said
// (content, location, counts), where it came from (Source, SourceID,
// ObservedAt), what geopulse matched it to (PlaceIDs, of any workspace) and
// what geopulse derived from it (Derived).
type SubjectPost struct {
	ID           int64          `json:"id"`
	Source       string         `json:"source"`
	SourceID     string         `json:"source_id"`
	ObservedAt   time.Time      `json:"observed_at"`
	AuthorID     int64          `json:"author_id"`
	Kind         Kind           `json:"kind"`
	TakenAt      time.Time      `json:"taken_at"`
	Lat          float64        `json:"lat"`
	Lon          float64        `json:"lon"`
	AccuracyM    float64        `json:"accuracy_m"`
	LocationFrom LocationFrom   `json:"location_from,omitempty"`
	PlaceName    string         `json:"place_name,omitempty"`
	Caption      string         `json:"caption"`
	MediaURLs    []string       `json:"media_urls"`
	Likes        int64          `json:"likes"`
	Comments     int64          `json:"comments"`
	Views        int64          `json:"views"`
	ExpiresAt    *time.Time     `json:"expires_at,omitempty"`
	Expired      bool           `json:"expired"`
	PlaceIDs     []int64        `json:"place_ids"`
	Derived      SubjectDerived `json:"derived"`
}

// SubjectDerived is what geopulse computed from a post rather than received.
type SubjectDerived struct {
	Cell      int64    `json:"cell"` // S2 leaf cell of the location
	Hashtags  []string `json:"hashtags"`
	Mentions  []string `json:"mentions"`
	Language  string   `json:"language,omitempty"`
	Sentiment float32  `json:"sentiment"`
	// Labels are what was read from the post's words and pictures, each
	// with the model that read it, so the person can see how.
	Labels []SubjectLabel `json:"labels"`
}

// SubjectLabel is one label of a post in an access report.
type SubjectLabel struct {
	Origin  LabelOrigin `json:"origin"`
	Kind    LabelKind   `json:"kind"`
	Name    string      `json:"name"`
	Score   float32     `json:"score"`
	Model   string      `json:"model"`
	Version string      `json:"version"`
}

// NewSubjectAuthor renders a stored author for a report.
func NewSubjectAuthor(a Author, stats []AuthorStat, suppressed []string) SubjectAuthor {
	out := SubjectAuthor{
		ID: a.ID, Source: a.Source, SourceID: a.SourceID, Handle: a.Handle, DisplayName: a.DisplayName,
		AvatarURL: a.AvatarURL, Bio: a.Bio, Followers: a.Followers, Following: a.Following, PostsCount: a.PostsCount,
		Verified: a.Verified, Business: a.Business, Private: a.Private, UpdatedAt: a.UpdatedAt.UTC(),
		Stats: make([]SubjectStat, len(stats)), Suppressed: nonNil(suppressed),
	}
	for i, s := range stats {
		out.Stats[i] = SubjectStat{ObservedAt: s.ObservedAt.UTC(), Followers: s.Followers, Following: s.Following, PostsCount: s.PostsCount}
	}
	return out
}

// NewSubjectPost renders a stored post for a report.
func NewSubjectPost(p *Post) SubjectPost {
	out := SubjectPost{
		ID: p.ID, Source: p.Source, SourceID: p.SourceID, ObservedAt: p.ObservedAt.UTC(), AuthorID: p.Author.ID,
		Kind: p.Kind, TakenAt: p.TakenAt.UTC(), Lat: p.Lat, Lon: p.Lon, AccuracyM: p.AccuracyM,
		LocationFrom: p.LocationFrom, PlaceName: p.PlaceName, Caption: p.Caption, MediaURLs: nonNil(p.MediaURLs),
		Likes: p.Likes, Comments: p.Comments, Views: p.Views, Expired: p.Expired, PlaceIDs: p.PlaceIDs,
		Derived: SubjectDerived{Cell: p.Cell, Hashtags: nonNil(p.Hashtags), Mentions: nonNil(p.Mentions), Language: p.Language,
			Sentiment: p.Sentiment, Labels: make([]SubjectLabel, len(p.Labels))},
	}
	for i, l := range p.Labels {
		out.Derived.Labels[i] = SubjectLabel{Origin: l.Origin, Kind: l.Kind, Name: l.Name, Score: l.Score, Model: l.Model, Version: l.Version}
	}
	if out.PlaceIDs == nil {
		out.PlaceIDs = []int64{}
	}
	if p.ExpiresAt != nil {
		t := p.ExpiresAt.UTC()
		out.ExpiresAt = &t
	}
	return out
}

// nonNil makes a nil list an empty one, so a report says [] and not null.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Data-subject actions, as receipts name them.
const (
	SubjectErasure   = "erasure"
	SubjectObjection = "objection"
)

// ErasureReceipt is what an erasure or objection did, to give the person
// and to keep as proof. It names the person only by keys (SuppressionKey,
// HandleKey: hashes, never the handle or the account id), so the operator
// can keep it after the data is gone. The keys are pseudonyms, not
// anonymity: anyone holding a handle can compute its key.
type ErasureReceipt struct {
	Action string     `json:"action"` // SubjectErasure or SubjectObjection
	Ref    ReceiptRef `json:"ref"`
	At     time.Time  `json:"at"`
	// AuthorsRemoved counts author cards removed (with their count
	// history); PostsRemoved their posts (with matches and tags).
	AuthorsRemoved int64 `json:"authors_removed"`
	PostsRemoved   int64 `json:"posts_removed"`
	// StreamMessagesRemoved and DeadLettersRemoved count raw copies
	// overwritten in the stream (erasure only; an objection leaves them to
	// age out).
	StreamMessagesRemoved int `json:"stream_messages_removed"`
	DeadLettersRemoved    int `json:"dead_letters_removed"`
	// MediaRemoved counts cached media files removed. geopulse keeps no
	// media cache yet, so it is 0.
	MediaRemoved int `json:"media_removed"`
	// Suppressed is true once every key below is on the suppression list,
	// so the person's posts are refused at the gate from now on.
	Suppressed bool `json:"suppressed"`
}

// ReceiptRef names the person of a receipt by keys only.
type ReceiptRef struct {
	Source string `json:"source"`
	// AccountKeys are the SuppressionKeys of the accounts concerned (the
	// AuthorID every store keys authors by).
	AccountKeys []int64 `json:"account_keys"`
	// HandleKeys are the HandleKeys suppressed.
	HandleKeys []int64 `json:"handle_keys"`
}
