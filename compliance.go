package geopulse

import (
	"context"
	"strings"
	"time"
)

// ComplianceKind is what happened at a source that geopulse must honour.
type ComplianceKind string

// Compliance events. The names follow X's compliance stream, the most
// complete published vocabulary; every connector maps its platform's events
// onto these.
const (
	// ComplianceDeletePost: a post was deleted at its source. The post and
	// everything derived from it are removed and its id is tombstoned, so a
	// replay or a late copy cannot bring it back.
	ComplianceDeletePost ComplianceKind = "delete"
	// ComplianceDeleteAuthor: an account was deleted. Its posts, card and
	// counts are removed and the account is suppressed.
	ComplianceDeleteAuthor ComplianceKind = "user_delete"
	// ComplianceProtectAuthor: an account became protected (private). As a
	// deletion, but the suppression lifts when the account is public again.
	ComplianceProtectAuthor ComplianceKind = "user_protect"
	// ComplianceUnprotectAuthor: a protected account is public again; new
	// posts may be collected (nothing removed comes back).
	ComplianceUnprotectAuthor ComplianceKind = "user_unprotect"
	// ComplianceScrubGeo: the author removed the location from their posts
	// taken up to UpTo. geopulse keeps only located posts, so those posts
	// are removed and tombstoned.
	ComplianceScrubGeo ComplianceKind = "scrub_geo"
)

// ComplianceKinds lists every kind, in a stable order.
var ComplianceKinds = []ComplianceKind{ComplianceDeletePost, ComplianceDeleteAuthor, ComplianceProtectAuthor, ComplianceUnprotectAuthor, ComplianceScrubGeo}

// Valid reports whether k is a known kind.
func (k ComplianceKind) Valid() bool {
	for _, v := range ComplianceKinds {
		if k == v {
			return true
		}
	}
	return false
}

// ComplianceEvent is a deletion, protection or geo scrub reported by a
// source, in any connector's format or the canonical schema.
type ComplianceEvent struct {
	Kind   ComplianceKind
	Source string
	// SourceID is the post (delete). Empty for account events.
	SourceID string
	// AuthorSourceID is the account (user_*, scrub_geo; optional for delete).
	AuthorSourceID string
	// UpTo bounds a geo scrub: posts taken at or before it. Zero: all.
	UpTo time.Time
	// At is when the source reported the event.
	At time.Time
}

// Validate returns an EINVALID *Error when the event lacks what its kind
// needs: a known kind and a source; a post id for delete; an account id for
// the others.
func (ev *ComplianceEvent) Validate() error {
	switch {
	case !ev.Kind.Valid():
		return Reject(ReasonInvalidField, "Unknown compliance event kind %q.", ev.Kind)
	case ev.Source == "":
		return Reject(ReasonMissingField, "A compliance event needs a source.")
	case ev.Kind == ComplianceDeletePost && ev.SourceID == "":
		return Reject(ReasonMissingField, "A delete event needs the post's source_id.")
	case ev.Kind != ComplianceDeletePost && ev.AuthorSourceID == "":
		return Reject(ReasonMissingField, "A %s event needs the author's source_id.", ev.Kind)
	}
	return nil
}

// ComplianceResult counts what applying an event changed.
type ComplianceResult struct {
	PostsRemoved  int64 `json:"posts_removed"`
	AuthorRemoved bool  `json:"author_removed"`
}

// ComplianceRecord is one applied event as the store keeps it: ids as keys
// (hashes), never handles, so the record itself identifies nobody.
type ComplianceRecord struct {
	Seq       int64            `json:"seq"`
	Kind      ComplianceKind   `json:"kind"`
	Source    string           `json:"source"`
	PostID    int64            `json:"post_id,omitempty"`
	AuthorID  int64            `json:"author_id,omitempty"`
	At        time.Time        `json:"at"`
	AppliedAt time.Time        `json:"applied_at"`
	Result    ComplianceResult `json:"result"`
}

// Suppression reasons: why an account or handle may not be collected.
const (
	SuppressDeleted   = "deleted"   // the account was deleted at its source
	SuppressProtected = "protected" // the account is protected or private
	SuppressObjection = "objection" // the person objected or asked for erasure
)

// SuppressionKey is the key of a suppressed account: AuthorID(source,
// authorSourceID), the id every store already uses.
func SuppressionKey(source, authorSourceID string) int64 { return AuthorID(source, authorSourceID) }

// HandleKey is the key of a suppressed handle, for people who object by
// handle before their account id is known. Handles are compared without '@'
// and case.
func HandleKey(source, handle string) int64 {
	return hashKey(source, "@"+strings.ToLower(strings.TrimLeft(handle, "@")))
}

// Blocklist is what the gate must refuse: suppressed accounts and handles,
// and tombstoned posts. Keys as SuppressionKey, HandleKey and PostID.
type Blocklist struct {
	Suppressed map[int64]string // key → reason
	Tombstones map[int64]struct{}
}

// ComplianceStore applies compliance events and keeps the suppression list
// and tombstones. Every method is idempotent.
type ComplianceStore interface {
	// ApplyCompliance removes or updates everything the event concerns —
	// posts, matches, tags, author card and counts — records the event and
	// updates tombstones and suppressions, in one transaction.
	ApplyCompliance(ctx context.Context, ev ComplianceEvent) (ComplianceResult, error)
	// Suppress adds key (SuppressionKey or HandleKey) to the suppression
	// list; Unsuppress removes it when its reason is reason.
	Suppress(ctx context.Context, key int64, reason string) error
	Unsuppress(ctx context.Context, key int64, reason string) error
	// LoadBlocklist reads the suppression list and the tombstones.
	LoadBlocklist(ctx context.Context) (*Blocklist, error)
	// ComplianceLog lists applied events with Seq > after, oldest first.
	ComplianceLog(ctx context.Context, after int64, limit int) ([]ComplianceRecord, error)
}
