package geopulse

import (
	"context"
	"slices"
	"time"
)

// AnyValue is how a retention rule says "any source" or "any kind"; the
// empty string means the same.
const AnyValue = "*"

// RetentionRule keeps the posts of one source and kind for Keep after they
// were taken (taken_at). Source and Kind are "" or "*" for any.
type RetentionRule struct {
	Source string
	Kind   Kind
	Keep   time.Duration
}

// normalized returns r with "*" spelled as "".
func (r RetentionRule) normalized() RetentionRule {
	if r.Source == AnyValue {
		r.Source = ""
	}
	if r.Kind == AnyValue {
		r.Kind = ""
	}
	return r
}

// specificity orders rules: source and kind (3) > source (2) > kind (1) >
// any (0). A source outranks a kind because sources differ in their terms
// of use, which is what retention windows mostly encode.
func (r RetentionRule) specificity() int {
	r = r.normalized()
	n := 0
	if r.Source != "" {
		n += 2
	}
	if r.Kind != "" {
		n++
	}
	return n
}

// Applies reports whether r covers posts of source and kind.
func (r RetentionRule) Applies(source string, kind Kind) bool {
	r = r.normalized()
	return (r.Source == "" || r.Source == source) && (r.Kind == "" || r.Kind == kind)
}

// RetentionPolicy is a set of retention rules, at system level (WorkspaceID
// 0) or for one workspace.
//
// Posts are collected once and shared by every workspace, which sees a
// post only through a match with one of its places. A system policy
// therefore deletes posts themselves, with their matches and tags, in every
// workspace; a workspace policy removes only that workspace's matches (and
// their tags), so the workspace no longer sees the posts, while other
// workspaces still do. Story content is deleted at expiry whatever the
// policy says (ExpireStories); a rule for stories governs the counts that
// survive expiry.
//
// For every post the most specific applicable rule decides: source and kind
// beat source, which beats kind, which beats any. A post that no rule
// covers is kept. Posts strictly older than now - Keep are removed.
//
// Derived aggregates: geopulse keeps no rollup tables yet. When rollups
// exist (per place × hour × kind), they outlive raw posts only for groups of
// at least k distinct authors (the floor of every reported row); a rollup
// row below the floor is deleted with the raw posts it came from.
type RetentionPolicy struct {
	WorkspaceID int64
	Rules       []RetentionRule
	// Unmatched, for the system policy only: posts that no place of any
	// workspace matches are kept at most this long (0: only Rules apply).
	// Unmatched posts are stored so that a new place can be backfilled
	// with history; this bounds how long data nobody sees is kept for that.
	Unmatched time.Duration
}

// Validate returns an EINVALID *Error unless every rule has a positive
// Keep and a known kind (or any), no two rules cover the same source and
// kind, and Unmatched is non-negative and set only on the system policy.
func (p RetentionPolicy) Validate() error {
	if p.WorkspaceID < 0 {
		return Errorf(EINVALID, "Retention policy workspace id %d is invalid.", p.WorkspaceID)
	}
	if p.Unmatched < 0 {
		return Errorf(EINVALID, "Retention for unmatched posts must not be negative.")
	}
	if p.Unmatched > 0 && p.WorkspaceID != 0 {
		return Errorf(EINVALID, "Retention for unmatched posts is a system setting, not a workspace's.")
	}
	seen := make(map[RetentionRule]bool, len(p.Rules))
	for _, r := range p.Rules {
		r = r.normalized()
		if r.Keep <= 0 {
			return Errorf(EINVALID, "Retention rule for source %q and kind %q must keep posts for a positive duration.", anyIfEmpty(r.Source), anyIfEmpty(string(r.Kind)))
		}
		if r.Kind != "" && !r.Kind.Valid() {
			return Errorf(EINVALID, "Retention rule has unknown kind %q.", r.Kind)
		}
		key := RetentionRule{Source: r.Source, Kind: r.Kind}
		if seen[key] {
			return Errorf(EINVALID, "Two retention rules cover source %q and kind %q.", anyIfEmpty(r.Source), anyIfEmpty(string(r.Kind)))
		}
		seen[key] = true
	}
	return nil
}

func anyIfEmpty(s string) string {
	if s == "" {
		return AnyValue
	}
	return s
}

// Ranked returns the rules with "*" spelled as "", most specific first
// (ties in their given order). The first rule of the list that applies to
// a post is the one that decides, so a store can render the list as one SQL
// CASE expression.
func (p RetentionPolicy) Ranked() []RetentionRule {
	out := make([]RetentionRule, len(p.Rules))
	for i, r := range p.Rules {
		out[i] = r.normalized()
	}
	slices.SortStableFunc(out, func(a, b RetentionRule) int { return b.specificity() - a.specificity() })
	return out
}

// Rule returns the rule that decides for posts of source and kind, and
// false when no rule covers them (they are kept).
func (p RetentionPolicy) Rule(source string, kind Kind) (RetentionRule, bool) {
	for _, r := range p.Ranked() {
		if r.Applies(source, kind) {
			return r, true
		}
	}
	return RetentionRule{}, false
}

// CoversAll reports whether some rule applies to every post (any source,
// any kind): only then can a store drop whole time ranges without looking
// at each post.
func (p RetentionPolicy) CoversAll() bool {
	for _, r := range p.Rules {
		if r.specificity() == 0 {
			return true
		}
	}
	return false
}

// RetentionCount is what a policy removed (or would remove) from the posts
// of one source and kind.
type RetentionCount struct {
	Source string `json:"source"`
	Kind   Kind   `json:"kind"`
	// Posts: for a system policy, posts deleted; for a workspace policy,
	// posts the workspace no longer sees.
	Posts int64 `json:"posts"`
	// Matches: place matches removed (of every workspace for a system
	// policy, of the workspace for a workspace policy).
	Matches int64 `json:"matches"`
	// Oldest is the taken_at of the oldest post affected.
	Oldest time.Time `json:"oldest"`
}

// RetentionReport is the outcome of applying one policy.
type RetentionReport struct {
	WorkspaceID int64 `json:"workspace_id"`
	DryRun      bool  `json:"dry_run"`
	// Counts has one entry per (source, kind) with something removed,
	// ordered by source, then kind.
	Counts []RetentionCount `json:"counts"`
	// Posts and Matches are the totals of Counts.
	Posts   int64 `json:"posts"`
	Matches int64 `json:"matches"`
	// Months counts whole monthly partitions dropped (or that would be)
	// by a store partitioned by month; their posts are in Counts too.
	Months int `json:"months,omitempty"`
}

// Add counts n posts and m matches of source and kind, the oldest taken at
// oldest, keeping Counts ordered and the totals in step.
func (r *RetentionReport) Add(source string, kind Kind, posts, matches int64, oldest time.Time) {
	if posts == 0 && matches == 0 {
		return
	}
	r.Posts += posts
	r.Matches += matches
	i, found := slices.BinarySearchFunc(r.Counts, RetentionCount{Source: source, Kind: kind}, func(a, b RetentionCount) int {
		if a.Source != b.Source {
			if a.Source < b.Source {
				return -1
			}
			return 1
		}
		if a.Kind < b.Kind {
			return -1
		} else if a.Kind > b.Kind {
			return 1
		}
		return 0
	})
	oldest = oldest.UTC()
	if !found {
		r.Counts = slices.Insert(r.Counts, i, RetentionCount{Source: source, Kind: kind, Posts: posts, Matches: matches, Oldest: oldest})
		return
	}
	c := &r.Counts[i]
	c.Posts += posts
	c.Matches += matches
	if oldest.Before(c.Oldest) {
		c.Oldest = oldest
	}
}

// RetentionStore applies retention policies. Applying a policy is
// idempotent: a second run at the same now removes nothing.
type RetentionStore interface {
	// ApplyRetention removes what policy p says is past its window at now
	// (see RetentionPolicy) and reports it, per source and kind. With
	// dryRun it changes nothing and reports what a real run would remove.
	// EINVALID for a policy that fails Validate; ENOTFOUND for a workspace
	// policy of an unknown workspace.
	ApplyRetention(ctx context.Context, p RetentionPolicy, now time.Time, dryRun bool) (RetentionReport, error)
}
