package geopulse

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// An audience is a set of authors described by criteria, never a list of
// people: what leaves geopulse about it is aggregate (AudienceStats, after
// the privacy floors of package audience) or a segment (places, hours,
// interests), and individuals only as public influencers.

// AudienceCriteria describes an audience. Every condition that is set must
// hold (AND); the values inside one condition are alternatives (OR). The
// base of every audience is the authors who posted at the workspace's
// places: Places, Groups and Categories narrow those places (none set:
// all of them), From/To or WithinDays the window, MinPosts, Hours and
// Weekdays the posts that count. Sensitive places never count.
type AudienceCriteria struct {
	Places     []int64    `json:"places,omitempty"`
	Groups     []string   `json:"groups,omitempty"`
	Categories []string   `json:"categories,omitempty"`
	From       *time.Time `json:"from,omitempty"`
	To         *time.Time `json:"to,omitempty"`
	// WithinDays is a window ending now, used when From is unset
	// (default DefaultAudienceDays).
	WithinDays int `json:"within_days,omitempty"`
	// MinPosts: at least this many posts at the places in the window
	// (default 1).
	MinPosts int   `json:"min_posts,omitempty"`
	Hours    []int `json:"hours,omitempty"`    // UTC hours of the day, 0..23
	Weekdays []int `json:"weekdays,omitempty"` // ISO: 1 Monday .. 7 Sunday
	// Interests and Brands are matched against author profiles: an author
	// has a term when its recency-weighted score is at least ProfileMinScore.
	Interests []string   `json:"interests,omitempty"`
	Brands    []string   `json:"brands,omitempty"`
	Languages []string   `json:"languages,omitempty"` // ISO 639-1, the author's main language
	Followers *CountSpan `json:"followers,omitempty"`
	// Exclude leaves out the members of other saved audiences of the
	// workspace (their latest versions).
	Exclude []int64 `json:"exclude,omitempty"`
}

// CountSpan is an inclusive range; a zero Max means no upper bound.
type CountSpan struct {
	Min int64 `json:"min,omitempty"`
	Max int64 `json:"max,omitempty"`
}

// Audience criteria limits and defaults.
const (
	DefaultAudienceDays = 90
	MaxAudienceDays     = 3660
	maxCriteriaValues   = 500
	MaxExcludeDepth     = 5 // how deep audiences may exclude audiences that exclude others
)

// ProfileHalfLife is the half-life of an author profile's recency
// weighting: a post counts 1 when new, 1/2 after this long.
const ProfileHalfLife = 90 * 24 * time.Hour

// ProfileMinScore is the score from which an author "has" an interest or
// brand: one post within a half-life, or several older ones.
const ProfileMinScore = 0.5

// Window returns the criteria's time range [from, to) relative to now.
func (c *AudienceCriteria) Window(now time.Time) (from, to time.Time) {
	to = now.UTC()
	if c.To != nil {
		to = c.To.UTC()
	}
	if c.From != nil {
		return c.From.UTC(), to
	}
	days := c.WithinDays
	if days == 0 {
		days = DefaultAudienceDays
	}
	return to.Add(-time.Duration(days) * 24 * time.Hour), to
}

// Normalize validates the criteria and puts them in canonical form
// (sorted, deduplicated, lower-cased terms), so equal audiences compare
// and hash equal. Errors are EINVALID with the offending field named.
func (c *AudienceCriteria) Normalize() error {
	if c.From != nil && c.To != nil && !c.From.Before(*c.To) {
		return Errorf(EINVALID, "Criteria: from must be before to.")
	}
	if c.WithinDays < 0 || c.WithinDays > MaxAudienceDays {
		return Errorf(EINVALID, "Criteria: within_days must be between 0 and %d.", MaxAudienceDays)
	}
	if c.MinPosts < 0 || c.MinPosts > 10000 {
		return Errorf(EINVALID, "Criteria: min_posts must be between 0 and 10000.")
	}
	for _, h := range c.Hours {
		if h < 0 || h > 23 {
			return Errorf(EINVALID, "Criteria: hours must be between 0 and 23, not %d.", h)
		}
	}
	for _, d := range c.Weekdays {
		if d < 1 || d > 7 {
			return Errorf(EINVALID, "Criteria: weekdays must be between 1 (Monday) and 7 (Sunday), not %d.", d)
		}
	}
	if f := c.Followers; f != nil && (f.Min < 0 || f.Max < 0 || (f.Max > 0 && f.Max < f.Min)) {
		return Errorf(EINVALID, "Criteria: followers needs 0 <= min <= max.")
	}
	for _, id := range append(slices.Clone(c.Places), c.Exclude...) {
		if id <= 0 {
			return Errorf(EINVALID, "Criteria: ids must be positive, not %d.", id)
		}
	}
	lists := []struct {
		name string
		v    *[]string
	}{{"groups", &c.Groups}, {"categories", &c.Categories}, {"interests", &c.Interests}, {"brands", &c.Brands}, {"languages", &c.Languages}}
	for _, l := range lists {
		for i, s := range *l.v {
			s = strings.ToLower(strings.TrimSpace(s))
			if s == "" || len(s) > 200 || !validText(s) {
				return Errorf(EINVALID, "Criteria: %s holds an empty, overlong or invalid value.", l.name)
			}
			if l.name == "groups" || l.name == "categories" {
				s = strings.TrimSpace((*l.v)[i]) // names as written
			}
			(*l.v)[i] = s
		}
		slices.Sort(*l.v)
		*l.v = slices.Compact(*l.v)
		if len(*l.v) > maxCriteriaValues {
			return Errorf(EINVALID, "Criteria: at most %d %s.", maxCriteriaValues, l.name)
		}
	}
	for _, v := range []*[]int64{&c.Places, &c.Exclude} {
		slices.Sort(*v)
		*v = slices.Compact(*v)
	}
	for _, v := range []*[]int{&c.Hours, &c.Weekdays} {
		slices.Sort(*v)
		*v = slices.Compact(*v)
	}
	if len(c.Places) > maxCriteriaValues || len(c.Exclude) > maxCriteriaValues {
		return Errorf(EINVALID, "Criteria: at most %d places or excluded audiences.", maxCriteriaValues)
	}
	return nil
}

// Key is a canonical text of normalized criteria (their JSON): equal
// criteria have equal keys.
func (c *AudienceCriteria) Key() string {
	b, _ := json.Marshal(c)
	return string(b)
}

// Audience is a saved audience definition. Saving again adds a version;
// the latest version is the audience.
type Audience struct {
	ID          int64            `json:"id"`
	WorkspaceID int64            `json:"-"`
	Version     int              `json:"version"`
	Name        string           `json:"name"`
	Criteria    AudienceCriteria `json:"criteria"`
	CreatedAt   time.Time        `json:"created_at"`
	CreatedBy   string           `json:"created_by"`
}

// Validate checks an audience before it is saved.
func (a *Audience) Validate() error {
	a.Name = strings.TrimSpace(a.Name)
	if a.Name == "" || len(a.Name) > 200 || !validText(a.Name) {
		return Reject(ReasonInvalidField, "Audience name must be 1 to 200 characters of valid text.")
	}
	if slices.Contains(a.Criteria.Exclude, a.ID) && a.ID != 0 {
		return Reject(ReasonInvalidField, "An audience cannot exclude itself.")
	}
	return a.Criteria.Normalize()
}

// AudienceQuery is what the stores compute audiences from: criteria plus
// the context the store cannot know by itself.
type AudienceQuery struct {
	WorkspaceID int64
	Criteria    AudienceCriteria
	Now         time.Time
}

// TermAuthors counts the audience's authors having a term.
type TermAuthors struct {
	Term    string `json:"term"`
	Authors int64  `json:"authors"`
}

// PlaceAuthors counts the audience's authors who posted at a place (in
// the window).
type PlaceAuthors struct {
	PlaceID int64  `json:"place_id"`
	Name    string `json:"name"`
	Authors int64  `json:"authors"`
}

// SlotAuthors counts the audience's authors who posted in one hour of the
// week (Weekday ISO 1..7, Hour UTC) in the window, at a place when
// PlaceID is set.
type SlotAuthors struct {
	PlaceID int64 `json:"place_id,omitempty"`
	Weekday int   `json:"weekday"`
	Hour    int   `json:"hour"`
	Authors int64 `json:"authors"`
}

// AreaAuthors counts the audience's authors whose home is a coarse grid
// square (HomeGridDegrees wide) centred on Lat, Lon.
type AreaAuthors struct {
	Lat     float64 `json:"lat"`
	Lon     float64 `json:"lon"`
	Authors int64   `json:"authors"`
}

// HomeGridDegrees is the resolution of an author's home: the centre of a
// square of 0.1 degrees (about 11 km), a city at most, never finer.
const HomeGridDegrees = 0.1

// WeekAuthors counts the audience's authors active in a week (Monday UTC).
type WeekAuthors struct {
	Week    time.Time `json:"week"`
	Authors int64     `json:"authors"`
}

// FollowerBucket counts the audience's authors in a follower range.
type FollowerBucket struct {
	Span    CountSpan `json:"span"`
	Authors int64     `json:"authors"`
}

// FollowerBuckets are the ranges of the follower distribution.
var FollowerBuckets = []CountSpan{{0, 999}, {1000, 9999}, {10000, 99999}, {100000, 999999}, {1000000, 0}}

// AudienceStats is the raw composition of an audience, as a store counts
// it: exact distinct-author counts, before any privacy floor. It never
// leaves geopulse as is; package audience floors it.
type AudienceStats struct {
	Authors    int64 `json:"authors"`
	New        int64 `json:"new"`       // first post at the workspace's places in the window
	Returning  int64 `json:"returning"` // posted there before the window too
	Interests  []TermAuthors
	Brands     []TermAuthors
	Categories []TermAuthors // of every place the audience posted at (any workspace's, never sensitive ones)
	Languages  []TermAuthors
	Places     []PlaceAuthors // the workspace's places, in the window
	HourOfWeek []SlotAuthors
	Followers  []FollowerBucket
	Homes      []AreaAuthors
	Trend      []WeekAuthors
}

// Influencer is a public author above the influencer threshold who posted
// at the workspace's places: a card and a count, never where or when.
type Influencer struct {
	Author Author `json:"author"`
	Posts  int64  `json:"posts"`
}

// PlaceTraffic is foot-traffic style metrics of a place, from posts.
// A visit is an author's posts at the place with less than VisitGap
// between consecutive ones.
type PlaceTraffic struct {
	PlaceID   int64  `json:"place_id"`
	Name      string `json:"name"`
	Posters   int64  `json:"posters"`   // distinct authors
	Repeaters int64  `json:"repeaters"` // authors with two visits or more
	Visits    int64  `json:"visits"`
	// DwellVisits are the visits with two posts or more; DwellSeconds is
	// their median first-to-last duration.
	DwellVisits  int64   `json:"dwell_visits"`
	DwellSeconds float64 `json:"dwell_seconds"`
	// OutOfTown are the posters whose home is more than OutOfTownKm away.
	OutOfTown int64 `json:"out_of_town"`
}

// VisitGap separates two visits of one author at one place.
const VisitGap = 4 * time.Hour

// OutOfTownKm is the distance from a place beyond which a poster's home
// counts as out of town.
const OutOfTownKm = 50

// AudienceStore keeps audience definitions and author profiles and
// computes the raw counts that package audience floors. Every method is
// scoped to one workspace: only posts at its non-sensitive places count.
type AudienceStore interface {
	// SaveAudience stores a new version of a (validated) audience. ID 0
	// creates one. ENOTFOUND when the id is not the workspace's.
	SaveAudience(ctx context.Context, a *Audience) error
	// Audience returns the latest version (version 0) or a given one.
	Audience(ctx context.Context, workspaceID, id int64, version int) (*Audience, error)
	// Audiences lists the latest version of each of the workspace's
	// audiences.
	Audiences(ctx context.Context, workspaceID int64) ([]*Audience, error)
	// DeleteAudience removes every version.
	DeleteAudience(ctx context.Context, workspaceID, id int64) error

	// AudienceSize counts the audience's distinct authors.
	AudienceSize(ctx context.Context, q AudienceQuery) (int64, error)
	// AudienceStats computes the composition (up to limit rows per list).
	AudienceStats(ctx context.Context, q AudienceQuery, limit int) (*AudienceStats, error)
	// CrossVisits returns, for the given places of the workspace, the
	// audience's authors who posted at both i and j in the window (the
	// diagonal: at i).
	CrossVisits(ctx context.Context, q AudienceQuery, placeIDs []int64) ([][]int64, error)
	// AudienceSlots counts authors per (place, hour of week): where and
	// when the audience concentrates.
	AudienceSlots(ctx context.Context, q AudienceQuery) ([]SlotAuthors, error)
	// AudienceInfluencers lists the audience's public authors with at
	// least minFollowers, by followers.
	AudienceInfluencers(ctx context.Context, q AudienceQuery, minFollowers int64, limit int) ([]Influencer, error)
	// FootTraffic computes PlaceTraffic for places of the workspace
	// (all when placeIDs is empty) over [from, to).
	FootTraffic(ctx context.Context, workspaceID int64, placeIDs []int64, from, to time.Time) ([]PlaceTraffic, error)

	// RefreshProfiles recomputes up to limit (0: no limit) queued profiles
	// from the authors' posts (every author when all is set) and returns
	// how many it refreshed. Posts at sensitive places never count.
	RefreshProfiles(ctx context.Context, now time.Time, limit int, all bool) (int, error)
	// AuthorProfile returns an author's profile terms (for subject access).
	AuthorProfile(ctx context.Context, authorID int64) ([]ProfileTerm, error)

	// SensitiveCategories returns the deny list of place categories, sorted.
	SensitiveCategories(ctx context.Context) ([]string, error)
	// SetSensitiveCategories replaces the deny list (NormalizeCategories
	// first); the profiles of authors at places whose sensitivity changes
	// are queued for a refresh.
	SetSensitiveCategories(ctx context.Context, categories []string) error
}

// NormalizeCategories validates a deny list of place categories: each
// entry trimmed and lower-cased, sorted, without duplicates.
func NormalizeCategories(list []string) ([]string, error) {
	if len(list) > 1000 {
		return nil, Errorf(EINVALID, "At most 1000 sensitive categories.")
	}
	out := make([]string, 0, len(list))
	for _, c := range list {
		c = strings.ToLower(strings.TrimSpace(c))
		if c == "" || len(c) > 200 || !validText(c) {
			return nil, Errorf(EINVALID, "A sensitive category must be 1 to 200 characters of valid text.")
		}
		out = append(out, c)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// ProfileTerm is one line of an author's internal profile: a term of a
// kind (ProfileInterest…) with its recency-weighted score at UpdatedAt.
type ProfileTerm struct {
	Kind      string    `json:"kind"`
	Term      string    `json:"term"`
	Score     float64   `json:"score"`
	Posts     int64     `json:"posts"`
	LastAt    time.Time `json:"last_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Profile kinds.
const (
	ProfileInterest = "interest"
	ProfileBrand    = "brand"
	ProfileCategory = "category"
	ProfileLanguage = "language"
	ProfileHour     = "how"  // term: hour of week 0..167 (Monday 00 UTC = 0)
	ProfileHome     = "home" // term: "lat,lon" of the HomeGridDegrees square
)

func validText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// PrivacySettings are a workspace's privacy floors (package audience
// applies them to every audience output).
type PrivacySettings struct {
	// MinAuthors is k: no reported row counts fewer distinct authors.
	MinAuthors int `json:"min_authors"`
	// SegmentFloor: no audience smaller than this is exported.
	SegmentFloor int `json:"segment_floor"`
	// Epsilon is the Laplace noise parameter of each reported count
	// (sensitivity 1: one author changes a distinct-author count by 1).
	Epsilon float64 `json:"epsilon"`
	// InfluencerFollowers: authors below it never appear by name.
	InfluencerFollowers int64 `json:"influencer_followers"`
	// NoiseKey seeds the noise, so the same question gets the same answer
	// (averaging repeated answers learns nothing). Never shown.
	NoiseKey []byte `json:"noise_key,omitempty"`
}

// Privacy floor defaults and limits.
const (
	DefaultMinAuthors          = 50
	MinMinAuthors              = 10
	DefaultSegmentFloor        = 100
	DefaultEpsilon             = 0.5
	DefaultInfluencerFollowers = 10_000
)

// WithDefaults fills unset fields with the defaults.
func (s PrivacySettings) WithDefaults() PrivacySettings {
	if s.MinAuthors == 0 {
		s.MinAuthors = DefaultMinAuthors
	}
	if s.SegmentFloor == 0 {
		s.SegmentFloor = max(DefaultSegmentFloor, s.MinAuthors)
	}
	if s.Epsilon == 0 {
		s.Epsilon = DefaultEpsilon
	}
	if s.InfluencerFollowers == 0 {
		s.InfluencerFollowers = DefaultInfluencerFollowers
	}
	return s
}

// Validate refuses floors below geopulse's minimums.
func (s PrivacySettings) Validate() error {
	switch {
	case s.MinAuthors < MinMinAuthors:
		return Errorf(EINVALID, "min_authors must be at least %d.", MinMinAuthors)
	case s.SegmentFloor < s.MinAuthors:
		return Errorf(EINVALID, "segment_floor must be at least min_authors (%d).", s.MinAuthors)
	case !(s.Epsilon > 0 && s.Epsilon <= 10):
		return Errorf(EINVALID, "epsilon must be greater than 0 and at most 10.")
	case s.InfluencerFollowers < 1000:
		return Errorf(EINVALID, "influencer_followers must be at least 1000.")
	}
	return nil
}

// SettingsStore keeps each workspace's privacy settings.
type SettingsStore interface {
	// PrivacySettings returns the workspace's settings, defaults filled
	// in, with a NoiseKey created on first use.
	PrivacySettings(ctx context.Context, workspaceID int64) (PrivacySettings, error)
	// SavePrivacySettings validates and stores them (the NoiseKey is kept).
	SavePrivacySettings(ctx context.Context, workspaceID int64, s PrivacySettings) error
}

// AudiencePlace is what choosing an audience's places needs of a place.
type AudiencePlace struct {
	ID        int64
	Name      string
	Category  string
	Groups    []string
	Sensitive bool    // marked, or of a category on the deny list
	Lat, Lon  float64 // the venue's centre, or the geofence's bbox centre
}

// SelectPlaces splits a workspace's places for the criteria: all are its
// non-sensitive places (where the audience's other visits count), selected
// those of them the criteria choose. A place the criteria name is
// ENOTFOUND when it is not the workspace's, EINVALID when sensitive: such
// places cannot be targeted.
func (c *AudienceCriteria) SelectPlaces(places []AudiencePlace) (selected, all []AudiencePlace, err error) {
	for _, id := range c.Places {
		i := slices.IndexFunc(places, func(p AudiencePlace) bool { return p.ID == id })
		if i < 0 {
			return nil, nil, Errorf(ENOTFOUND, "Place %d not found.", id)
		}
		if places[i].Sensitive {
			return nil, nil, Errorf(EINVALID, "Place %d is a sensitive place and cannot be targeted.", id)
		}
	}
	for _, p := range places {
		if p.Sensitive {
			continue
		}
		all = append(all, p)
		if (len(c.Places) == 0 || slices.Contains(c.Places, p.ID)) &&
			(len(c.Groups) == 0 || slices.ContainsFunc(p.Groups, func(g string) bool { return slices.Contains(c.Groups, g) })) &&
			(len(c.Categories) == 0 || slices.Contains(c.Categories, p.Category)) {
			selected = append(selected, p)
		}
	}
	return selected, all, nil
}
