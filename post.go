package geopulse

import (
	"context"
	"hash/fnv"
	"time"
)

// Kind is what sort of content a post is.
type Kind string

// Kinds of posts.
const (
	KindPhoto Kind = "photo"
	KindVideo Kind = "video"
	KindStory Kind = "story"
	KindReel  Kind = "reel"
	KindText  Kind = "text"
)

// Kinds lists every valid kind, in a stable order.
var Kinds = []Kind{KindPhoto, KindVideo, KindStory, KindReel, KindText}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool {
	for _, v := range Kinds {
		if k == v {
			return true
		}
	}
	return false
}

// LocationFrom is how a post's location was obtained. Matching respects the
// accuracy that comes with it: a city-sized bbox never counts as inside a
// 100 m venue (see geo.Shape.Contains).
type LocationFrom string

// Location provenances.
const (
	// LocationPoint: an exact point from the source (device GPS, a geo tag
	// with coordinates). The default when a sender says nothing.
	LocationPoint LocationFrom = "point"
	// LocationBBox: the centre of a place's bounding box given by the
	// source (X places); AccuracyM is the box's half diagonal.
	LocationBBox LocationFrom = "bbox"
	// LocationCentroid: the coordinates of a named place the author tagged
	// (an Instagram location, a Flickr locality); AccuracyM is the place's
	// extent when known.
	LocationCentroid LocationFrom = "centroid"
	// LocationVenue: attributed from a venue the content is tied to, not
	// reported by the source: a venue's own media, posts that mention or tag
	// it (Instagram Graph exposes no media location).
	LocationVenue LocationFrom = "venue"
)

// LocationFroms lists every provenance, in a stable order.
var LocationFroms = []LocationFrom{LocationPoint, LocationBBox, LocationCentroid, LocationVenue}

// Valid reports whether f is a known provenance.
func (f LocationFrom) Valid() bool {
	for _, v := range LocationFroms {
		if f == v {
			return true
		}
	}
	return false
}

// StoryTTL is how long a story lives at its source when it carries no explicit expiry.
const StoryTTL = 24 * time.Hour

// Post is one public, geotagged item from a source.
type Post struct {
	// ID is PostID(Source, SourceID); stores key on it.
	ID         int64
	Source     string
	SourceID   string
	Kind       Kind
	Author     Author
	TakenAt    time.Time
	ObservedAt time.Time

	Lat, Lon float64
	// AccuracyM is the radius in metres within which the true location lies
	// (0: an exact point).
	AccuracyM float64
	// LocationFrom says how the location was obtained; AccuracyM goes with
	// it (a bbox's centre carries the bbox's half diagonal).
	LocationFrom LocationFrom
	// Cell is the S2 leaf cell id of (Lat, Lon), as an int64.
	Cell      int64
	PlaceName string

	Caption   string
	Hashtags  []string // lower-case, without '#'
	Mentions  []string // lower-case, without '@'
	MediaURLs []string
	Likes     int64
	Comments  int64
	Views     int64

	// ExpiresAt is set for stories. After it passes, the content (caption,
	// tags, media) is deleted and only the counts survive (Expired is true).
	ExpiresAt *time.Time
	Expired   bool

	Language string // ISO 639-1 ("en"); empty when unknown
	// Sentiment of the caption in [-1, 1] (0: neutral or no opinion words).
	Sentiment float32

	// Labels are what the post shows or says. At ingest they are the
	// OriginText labels the pipeline read from the words; read back from a
	// store they are every label the post has, images' included.
	Labels []Label

	// PlaceIDs are the places (of any workspace) the post lies in. The
	// pipeline fills it; stores persist it as matches.
	PlaceIDs []int64
}

// PostID is the stable key of the post (source, sourceID): a 64-bit FNV-1a
// hash, so the same post always maps to the same row in every store.
func PostID(source, sourceID string) int64 { return hashKey(source, sourceID) }

// AuthorID is the stable key of the author (source, sourceID).
func AuthorID(source, sourceID string) int64 { return hashKey(source, sourceID) }

func hashKey(a, b string) int64 {
	h := fnv.New64a()
	h.Write([]byte(a))
	h.Write([]byte{0})
	h.Write([]byte(b))
	return int64(h.Sum64() &^ (1 << 63)) // non-negative: friendlier in URLs and logs
}

// Author is the public profile of the account that made a post.
type Author struct {
	ID          int64 // AuthorID(Source, SourceID)
	Source      string
	SourceID    string
	Handle      string
	DisplayName string
	AvatarURL   string
	Bio         string
	Followers   int64
	Following   int64
	PostsCount  int64
	Verified    bool
	Business    bool
	Private     bool
	UpdatedAt   time.Time
}

// AuthorStat is one observation of an author's counts; stores keep one row
// each time the counts change, so follower growth can be charted.
type AuthorStat struct {
	ObservedAt time.Time
	Followers  int64
	Following  int64
	PostsCount int64
}

// Area narrows a feed to a region. The bounding box is applied by the store;
// Contains, when set, is the exact test (radius or polygon) applied after it.
type Area struct {
	MinLat, MinLon, MaxLat, MaxLon float64
	Contains                       func(lat, lon float64) bool
}

// PostFilter selects posts for a feed. Zero values mean "no constraint",
// except WorkspaceID, which is always required.
type PostFilter struct {
	WorkspaceID  int64
	PlaceIDs     []int64 // empty: every place of the workspace
	Area         *Area
	From, To     time.Time // To is exclusive
	Kinds        []Kind
	Hashtag      string
	Text         string // case-insensitive substring of the caption
	MinFollowers int64
	Label        string // an object label ("dog"), of any origin
	Brand        string // a brand label ("starbucks")
	Interest     string // an interest of the taxonomy ("pets")
	Cursor       string // opaque; from a previous page
	Limit        int
}

// PostService reads and writes posts. Writes are idempotent on (Source, SourceID).
type PostService interface {
	// UpsertPosts stores posts and their authors and place matches. A post
	// seen before keeps its identity and gets its mutable fields (caption,
	// engagement counts, author card) updated. The stored posts' authors
	// are queued for a profile refresh in the same transaction
	// (AudienceStore.RefreshProfiles). The returned slice has one entry
	// per post (nil: stored); a non-nil error means none was stored.
	UpsertPosts(ctx context.Context, posts []*Post) ([]error, error)

	// FindPosts returns a page of posts, newest first, and the cursor of the
	// next page ("" at the end). Each post's PlaceIDs are restricted to the
	// filter's workspace, so no other workspace's place ids leak. EINVALID
	// for a bad cursor or filter.
	FindPosts(ctx context.Context, filter PostFilter) ([]*Post, string, error)

	// FindPostByID returns one post visible to the workspace, or ENOTFOUND.
	FindPostByID(ctx context.Context, workspaceID, id int64) (*Post, error)

	// FindAuthorStats returns an author's count history, oldest first, if
	// the author has a post matched to one of the workspace's places;
	// ENOTFOUND otherwise, so no workspace learns of authors it cannot see.
	FindAuthorStats(ctx context.Context, workspaceID, authorID int64) ([]AuthorStat, error)

	// ExpireStories deletes the content of stories whose ExpiresAt is at or
	// before now and returns how many were expired.
	ExpireStories(ctx context.Context, now time.Time) (int, error)
}
