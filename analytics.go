package geopulse

import (
	"context"
	"time"
)

// Interval is the bucket width of a volume series.
type Interval string

// Intervals.
const (
	IntervalHour Interval = "hour"
	IntervalDay  Interval = "day"
)

// AnalyticsFilter selects what to aggregate. Zero values mean "no constraint",
// except WorkspaceID, which is always required.
type AnalyticsFilter struct {
	WorkspaceID int64
	PlaceIDs    []int64 // empty: every place of the workspace
	From, To    time.Time
	Kinds       []Kind
	Interval    Interval // default day
	Limit       int      // rows in each top list; default 10
}

// Analytics is the dashboard's aggregate set for some places and a time range.
// Hours are UTC; HourOfWeek[0] is Monday.
type Analytics struct {
	Volume      []VolumeBucket
	TopHashtags []TermCount
	TopAuthors  []AuthorCount
	HourOfWeek  [7][24]int64
	Places      []PlaceCount
	// What the posts show and say (labels of every origin).
	TopLabels        []TermCount // object labels
	TopBrands        []TermCount
	TopInterests     []TermCount
	InterestsByPlace []PlaceTermCount // top interests of each place (Limit per place)
	InterestsByHour  []HourTermCount  // posts per interest and UTC hour of day
	Posts            int64
	Authors          int64
}

// VolumeBucket counts posts of one kind in one time bucket.
type VolumeBucket struct {
	Start time.Time
	Kind  Kind
	Posts int64
}

// TermCount counts posts carrying a term (a hashtag, later a label or brand).
type TermCount struct {
	Term  string
	Posts int64
}

// PlaceTermCount counts a place's posts carrying a term.
type PlaceTermCount struct {
	PlaceID int64
	Term    string
	Posts   int64
}

// HourTermCount counts the posts carrying a term in one UTC hour of the day.
type HourTermCount struct {
	Hour  int // 0..23
	Term  string
	Posts int64
}

// AuthorCount is an author and how many of the selected posts they made.
type AuthorCount struct {
	Author Author
	Posts  int64
}

// PlaceCount is one row of the place leaderboard.
type PlaceCount struct {
	PlaceID int64
	Name    string
	Posts   int64
	Authors int64
}

// AnalyticsService computes aggregates.
type AnalyticsService interface {
	// Analytics returns the aggregate set; EINVALID for a bad filter.
	Analytics(ctx context.Context, filter AnalyticsFilter) (*Analytics, error)
}

// Complier takes compliance events in (deletions, protected accounts, geo
// scrubs). Every intake path that takes posts takes these too.
type Complier interface {
	// Comply returns one entry per event: nil when applied (or, at intake,
	// durably queued), else an *Error. A non-nil error means none was.
	Comply(ctx context.Context, events []*ComplianceEvent) ([]error, error)
}

// Ingester takes posts in: it validates, gates, matches and stores them.
type Ingester interface {
	// Ingest returns one entry per post: nil when accepted, else an *Error
	// with a Reason. A non-nil error means the whole batch failed.
	Ingest(ctx context.Context, posts []*Post) ([]error, error)
}
