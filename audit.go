package geopulse

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"strings"
	"time"
	"unicode/utf8"
)

// Audit actions: what was done. An action is a lowercase dotted name
// (AuditFilter.Action may select a family by its prefix, e.g. "privacy.").
const (
	AuditFeedRead         = "feed.read"
	AuditAnalyticsRead    = "analytics.read"
	AuditAudienceRun      = "audience.run"
	AuditAudienceSave     = "audience.save"
	AuditAudienceDelete   = "audience.delete"
	AuditExport           = "export"
	AuditPlaceCreate      = "place.create"
	AuditPlaceUpdate      = "place.update"
	AuditPlaceDelete      = "place.delete"
	AuditPlacesImport     = "places.import"
	AuditSettingsUpdate   = "settings.update"
	AuditPrivacyErasure   = "privacy.erasure"
	AuditPrivacyAccess    = "privacy.access"
	AuditPrivacyObjection = "privacy.objection"
	AuditComplianceApply  = "compliance.apply"
	AuditKeyCreate        = "key.create"
	AuditKeyRotate        = "key.rotate"
	AuditKeyRevoke        = "key.revoke"
)

// Audit actors that are not a key or a user.
const (
	AuditActorSystem = "system" // maintenance jobs, compliance streams
	AuditActorAdmin  = "admin"  // the operator, through the admin API or CLI
)

// AuditSystemWorkspace holds entries that concern no single workspace
// (compliance events, operator actions).
const AuditSystemWorkspace = 0

// AuditActorKey names an API key in the log by the first 8 characters of
// its hash (HashAPIKey): enough to tell keys apart, useless to an attacker.
func AuditActorKey(keyHash string) string {
	return "key:" + keyHash[:min(8, len(keyHash))]
}

// AuditActorSession names a dashboard user.
func AuditActorSession(user string) string { return "session:" + user }

// Limits of an audit entry's fields, in bytes. The log is read by people
// and verified in full, so entries stay small.
const (
	AuditMaxActor  = 128
	AuditMaxAction = 64
	AuditMaxTarget = 256
	AuditMaxDetail = 4096
)

// Page sizes of FindAudit.
const (
	AuditDefaultLimit = 100
	AuditMaxLimit     = 1000
)

// AuditEntry is one line of a workspace's append-only audit log: who did
// what to which object. Entries form a hash chain per workspace: each
// carries the hash of the one before it, so editing, deleting or reordering
// a stored entry breaks the chain (VerifyAudit).
//
// Actor, Target and Detail must not hold personal data of the people whose
// posts geopulse stores: the log is kept forever and erasure does not touch
// it. Ids and counts are fine; handles, captions and coordinates are not.
type AuditEntry struct {
	// Seq numbers the workspace's entries 1, 2, 3… without gaps.
	Seq         int64     `json:"seq"`
	WorkspaceID int64     `json:"workspace_id"`
	At          time.Time `json:"at"`
	// Actor: AuditActorKey, AuditActorSession, AuditActorSystem or AuditActorAdmin.
	Actor string `json:"actor"`
	// Action: one of the Audit* action names, or another lowercase dotted name.
	Action string `json:"action"`
	// Target is the object acted on, as "kind:id" ("place:12"); may be empty.
	Target string `json:"target,omitempty"`
	// Detail is a small JSON object (parameters, counts), or empty.
	Detail string `json:"detail,omitempty"`
	// PrevHash is the previous entry's Hash (32 zero bytes for Seq 1);
	// Hash is ComputeHash. Both are set by the store.
	PrevHash []byte `json:"prev_hash"`
	Hash     []byte `json:"hash"`
}

// auditHashDomain starts every hashed message, so that an entry's hash can
// never be mistaken for the hash of anything else geopulse hashes. A change
// of the encoding gets a new version.
const auditHashDomain = "geopulse.audit.v1\x00"

// ComputeHash returns the SHA-256 of the entry's canonical encoding: the
// domain tag, then WorkspaceID, Seq and At (UTC Unix microseconds) as 8-byte
// big-endian integers, then Actor, Action, Target, Detail and PrevHash each
// prefixed by its 8-byte length. Fixed widths and length prefixes make the
// encoding unambiguous: no two different entries encode alike.
func (e *AuditEntry) ComputeHash() []byte {
	n := len(auditHashDomain) + 3*8 + 5*8 + len(e.Actor) + len(e.Action) + len(e.Target) + len(e.Detail) + len(e.PrevHash)
	b := make([]byte, 0, n)
	b = append(b, auditHashDomain...)
	b = binary.BigEndian.AppendUint64(b, uint64(e.WorkspaceID))
	b = binary.BigEndian.AppendUint64(b, uint64(e.Seq))
	b = binary.BigEndian.AppendUint64(b, uint64(e.At.UnixMicro()))
	for _, s := range []string{e.Actor, e.Action, e.Target, e.Detail} {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.BigEndian.AppendUint64(b, uint64(len(e.PrevHash)))
	b = append(b, e.PrevHash...)
	sum := sha256.Sum256(b)
	return sum[:]
}

// AuditGenesisHash is the PrevHash of a workspace's first entry.
func AuditGenesisHash() []byte { return make([]byte, sha256.Size) }

// Validate returns an EINVALID *Error for an entry the store must refuse:
// a negative workspace, a missing actor or action, an action that is not a
// lowercase dotted name, a field over its limit, text that is not UTF-8 or
// holds NUL, or a Detail that is not a JSON object.
func (e *AuditEntry) Validate() error {
	switch {
	case e.WorkspaceID < 0:
		return Reject(ReasonInvalidField, "An audit entry's workspace id must not be negative.")
	case e.Actor == "":
		return Reject(ReasonMissingField, "An audit entry needs an actor.")
	case e.Action == "":
		return Reject(ReasonMissingField, "An audit entry needs an action.")
	case !validAuditAction(e.Action):
		return Reject(ReasonInvalidField, "Audit action %q must be lowercase letters, digits, '_' and '.', at most %d bytes.", e.Action, AuditMaxAction)
	}
	for _, f := range []struct {
		name, v string
		max     int
	}{{"actor", e.Actor, AuditMaxActor}, {"target", e.Target, AuditMaxTarget}, {"detail", e.Detail, AuditMaxDetail}} {
		if len(f.v) > f.max {
			return Reject(ReasonTooLarge, "An audit entry's %s is %d bytes, more than %d.", f.name, len(f.v), f.max)
		}
		// PostgreSQL's text cannot hold NUL; refusing it in both stores
		// keeps them alike.
		if !utf8.ValidString(f.v) || strings.IndexByte(f.v, 0) >= 0 {
			return Reject(ReasonInvalidUTF8, "An audit entry's %s must be UTF-8 text without NUL.", f.name)
		}
	}
	if e.Detail != "" {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(e.Detail), &obj); err != nil || obj == nil {
			return Reject(ReasonInvalidField, "An audit entry's detail must be a JSON object.")
		}
	}
	return nil
}

func validAuditAction(a string) bool {
	if len(a) > AuditMaxAction || a[0] == '.' {
		return false
	}
	for _, c := range []byte(a) {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_' || c == '.') {
			return false
		}
	}
	return true
}

// AuditFilter selects entries of one workspace. Zero fields select all.
type AuditFilter struct {
	WorkspaceID int64
	// After: entries with Seq > After (the last Seq of the previous page).
	After int64
	// From, To bound At; To is exclusive.
	From, To time.Time
	// Action selects one action, or, ending in '.', every action that
	// starts with it ("privacy.").
	Action string
	// Limit is the page size: default AuditDefaultLimit, at most AuditMaxLimit.
	Limit int
}

// Validate returns EINVALID for a negative After or Limit, a Limit above
// AuditMaxLimit, or a time range that is reversed or outside years 1-9999.
func (f AuditFilter) Validate() error {
	switch {
	case f.After < 0:
		return Errorf(EINVALID, "After must not be negative.")
	case f.Limit < 0 || f.Limit > AuditMaxLimit:
		return Errorf(EINVALID, "Limit must be between 1 and %d.", AuditMaxLimit)
	case !f.To.IsZero() && !f.From.IsZero() && f.To.Before(f.From):
		return Errorf(EINVALID, "The end of the time range is before its start.")
	}
	for _, t := range []time.Time{f.From, f.To} {
		if y := t.UTC().Year(); !t.IsZero() && (y < 1 || y > 9999) {
			return Errorf(EINVALID, "Time %s is out of range.", t.UTC().Format(time.RFC3339))
		}
	}
	return nil
}

// PageSize is Limit, or AuditDefaultLimit when Limit is zero.
func (f AuditFilter) PageSize() int {
	if f.Limit == 0 {
		return AuditDefaultLimit
	}
	return f.Limit
}

// Why a chain is broken (AuditVerification.Reason).
const (
	// AuditSeqGap: the entry numbered BrokenAt is missing (deleted, or
	// renumbered away).
	AuditSeqGap = "seq_gap"
	// AuditLinkMismatch: entry BrokenAt does not carry its predecessor's
	// hash: entries were reordered or renumbered, or the predecessor was
	// edited and given a matching hash.
	AuditLinkMismatch = "prev_hash_mismatch"
	// AuditHashMismatch: entry BrokenAt's content does not hash to its
	// stored hash (the entry was edited).
	AuditHashMismatch = "hash_mismatch"
	// AuditHeadMismatch: the last entry is not the chain head the store
	// recorded at its last append (entries removed from, or added to, the
	// end behind the store's back). BrokenAt is the first seq that differs.
	AuditHeadMismatch = "head_mismatch"
)

// AuditVerification is the result of checking a workspace's chain.
type AuditVerification struct {
	// Entries is how many entries were found intact, from Seq 1 on.
	Entries int64 `json:"entries"`
	OK      bool  `json:"ok"`
	// BrokenAt is the Seq of the first entry that fails (0 when OK).
	BrokenAt int64 `json:"broken_at,omitempty"`
	// Reason is one of the Audit*Mismatch / AuditSeqGap codes ("" when OK).
	Reason string `json:"reason,omitempty"`
	// Head is the hash of the last intact entry (the genesis hash for an
	// empty log). Recording it elsewhere from time to time (a ticket, an
	// e-mail, another system's log) also protects the end of the log: the
	// chain alone cannot tell a log from a consistently rewritten one.
	Head []byte `json:"head"`
}

// AuditVerifier checks a chain one entry at a time, oldest first, so that
// a store verifies a long log while scanning it, without holding it in
// memory.
type AuditVerifier struct {
	headSeq  int64
	headHash []byte
	res      AuditVerification
	done     bool
}

// NewAuditVerifier returns a verifier for a chain whose head, as the store
// recorded it at its last append, is (headSeq, headHash); (0, nil) when it
// recorded none. The head protects the end of the chain, which no later
// entry links to: the store must read it in the same snapshot as the
// entries.
func NewAuditVerifier(headSeq int64, headHash []byte) *AuditVerifier {
	return &AuditVerifier{headSeq: headSeq, headHash: headHash}
}

// Check verifies the next entry and reports whether the chain is still
// intact. Once it returns false the verdict is final; stop feeding it.
func (v *AuditVerifier) Check(e *AuditEntry) bool {
	if v.done {
		return false
	}
	want := v.res.Entries + 1
	switch {
	case e.Seq != want:
		return v.fail(want, AuditSeqGap)
	case !bytes.Equal(e.PrevHash, v.head()):
		return v.fail(e.Seq, AuditLinkMismatch)
	case !bytes.Equal(e.Hash, e.ComputeHash()):
		return v.fail(e.Seq, AuditHashMismatch)
	case e.Seq > v.headSeq:
		// Well formed, but the store never appended it.
		return v.fail(e.Seq, AuditHeadMismatch)
	case e.Seq == v.headSeq && !bytes.Equal(e.Hash, v.headHash):
		// The last entry links up but is not the one the store appended:
		// it was replaced by a forged, consistently hashed one.
		return v.fail(e.Seq, AuditHeadMismatch)
	}
	v.res.Entries = e.Seq
	v.res.Head = e.Hash
	return true
}

// Result returns the verdict once every entry has been checked.
func (v *AuditVerifier) Result() AuditVerification {
	r := v.res
	r.OK = !v.done
	r.Head = v.head()
	if r.OK && r.Entries < v.headSeq {
		// The entries after the last one found were removed.
		r.OK, r.BrokenAt, r.Reason = false, r.Entries+1, AuditHeadMismatch
	}
	return r
}

func (v *AuditVerifier) head() []byte {
	if v.res.Head == nil {
		return AuditGenesisHash()
	}
	return v.res.Head
}

func (v *AuditVerifier) fail(at int64, reason string) bool {
	v.done = true
	v.res.BrokenAt, v.res.Reason = at, reason
	return false
}

// AuditStore keeps the audit log. There is no way to change or remove an
// entry: the log is append-only by construction, and the hash chain shows
// any change made to the database behind the store's back.
type AuditStore interface {
	// AppendAudit validates e (EINVALID), assigns its Seq, At (the
	// store's clock), PrevHash and Hash, and appends it to its workspace's
	// chain. Concurrent appends to one workspace are serialised, so the
	// chain never forks and Seq has no gaps.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// FindAudit returns a page of the filter's workspace's entries, oldest
	// first; the next page has After = the last entry's Seq. EINVALID for a
	// bad filter (AuditFilter.Validate).
	FindAudit(ctx context.Context, filter AuditFilter) ([]*AuditEntry, error)
	// VerifyAudit recomputes the workspace's chain from Seq 1 and reports
	// the first entry that was edited, deleted or moved, or a chain head
	// that does not match the last entry. A broken chain is a result, not
	// an error.
	VerifyAudit(ctx context.Context, workspaceID int64) (AuditVerification, error)
}
