package geopulse_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

var auditT0 = time.Date(2025, 6, 2, 12, 0, 0, 123456000, time.UTC)

// TestAuditComputeHash pins the documented encoding: the message is built
// here by hand, byte by byte, so a change to ComputeHash that would break
// every stored chain fails this test.
func TestAuditComputeHash(t *testing.T) {
	e := &geopulse.AuditEntry{WorkspaceID: 7, Seq: 3, At: auditT0, Actor: "key:ab", Action: "feed.read",
		Target: "place:12", Detail: `{"n":1}`, PrevHash: bytes.Repeat([]byte{0xee}, 32)}
	msg := "geopulse.audit.v1\x00" +
		"\x00\x00\x00\x00\x00\x00\x00\x07" + // workspace
		"\x00\x00\x00\x00\x00\x00\x00\x03" + // seq
		"\x00\x06\x36\x95\x80\xda\xf2\x40" + // at, Unix µs
		"\x00\x00\x00\x00\x00\x00\x00\x06key:ab" +
		"\x00\x00\x00\x00\x00\x00\x00\x09feed.read" +
		"\x00\x00\x00\x00\x00\x00\x00\x08place:12" +
		"\x00\x00\x00\x00\x00\x00\x00\x07{\"n\":1}" +
		"\x00\x00\x00\x00\x00\x00\x00\x20" + strings.Repeat("\xee", 32)
	if us := auditT0.UnixMicro(); us != 0x00063695_80daf240 {
		t.Fatalf("fixture: UnixMicro = %#x", us)
	}
	want := sha256.Sum256([]byte(msg))
	if got := e.ComputeHash(); !bytes.Equal(got, want[:]) {
		t.Fatalf("hash = %x, want %x", got, want)
	}

	// Each change of a field, and each shift of bytes between adjacent
	// fields, gives another hash.
	base := e.ComputeHash()
	tests := []struct {
		name   string
		change func(e *geopulse.AuditEntry)
	}{
		{"workspace", func(e *geopulse.AuditEntry) { e.WorkspaceID = 8 }},
		{"seq", func(e *geopulse.AuditEntry) { e.Seq = 4 }},
		{"at by a microsecond", func(e *geopulse.AuditEntry) { e.At = e.At.Add(time.Microsecond) }},
		{"actor", func(e *geopulse.AuditEntry) { e.Actor = "key:ac" }},
		{"action", func(e *geopulse.AuditEntry) { e.Action = "feed.reads" }},
		{"target", func(e *geopulse.AuditEntry) { e.Target = "" }},
		{"detail", func(e *geopulse.AuditEntry) { e.Detail = `{"n":2}` }},
		{"prev hash", func(e *geopulse.AuditEntry) { e.PrevHash = geopulse.AuditGenesisHash() }},
		{"byte moved from actor to action", func(e *geopulse.AuditEntry) { e.Actor, e.Action = "key:a", "bfeed.read" }},
		{"target moved into detail", func(e *geopulse.AuditEntry) { e.Target, e.Detail = "", "place:12"+e.Detail }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := *e
			tt.change(&c)
			if bytes.Equal(c.ComputeHash(), base) {
				t.Fatal("hash unchanged")
			}
		})
	}

	t.Run("time zone does not matter", func(t *testing.T) {
		c := *e
		c.At = c.At.In(time.FixedZone("x", 3600))
		if !bytes.Equal(c.ComputeHash(), base) {
			t.Fatal("hash depends on the zone")
		}
	})
}

func TestAuditEntryValidate(t *testing.T) {
	ok := geopulse.AuditEntry{WorkspaceID: 1, Actor: "system", Action: "privacy.erasure", Target: "author:1", Detail: `{"posts":3}`}
	tests := []struct {
		name   string
		change func(e *geopulse.AuditEntry)
		reason string // "" means valid
	}{
		{"valid", func(e *geopulse.AuditEntry) {}, ""},
		{"system workspace", func(e *geopulse.AuditEntry) { e.WorkspaceID = geopulse.AuditSystemWorkspace }, ""},
		{"no target or detail", func(e *geopulse.AuditEntry) { e.Target, e.Detail = "", "" }, ""},
		{"negative workspace", func(e *geopulse.AuditEntry) { e.WorkspaceID = -1 }, geopulse.ReasonInvalidField},
		{"no actor", func(e *geopulse.AuditEntry) { e.Actor = "" }, geopulse.ReasonMissingField},
		{"no action", func(e *geopulse.AuditEntry) { e.Action = "" }, geopulse.ReasonMissingField},
		{"upper-case action", func(e *geopulse.AuditEntry) { e.Action = "Feed.read" }, geopulse.ReasonInvalidField},
		{"action with space", func(e *geopulse.AuditEntry) { e.Action = "feed read" }, geopulse.ReasonInvalidField},
		{"action starts with dot", func(e *geopulse.AuditEntry) { e.Action = ".read" }, geopulse.ReasonInvalidField},
		{"long action", func(e *geopulse.AuditEntry) { e.Action = strings.Repeat("a", geopulse.AuditMaxAction+1) }, geopulse.ReasonInvalidField},
		{"long actor", func(e *geopulse.AuditEntry) { e.Actor = strings.Repeat("a", geopulse.AuditMaxActor+1) }, geopulse.ReasonTooLarge},
		{"long target", func(e *geopulse.AuditEntry) { e.Target = strings.Repeat("a", geopulse.AuditMaxTarget+1) }, geopulse.ReasonTooLarge},
		{"long detail", func(e *geopulse.AuditEntry) {
			e.Detail = `{"a":"` + strings.Repeat("a", geopulse.AuditMaxDetail) + `"}`
		}, geopulse.ReasonTooLarge},
		{"NUL in target", func(e *geopulse.AuditEntry) { e.Target = "place:\x001" }, geopulse.ReasonInvalidUTF8},
		{"bad UTF-8 in actor", func(e *geopulse.AuditEntry) { e.Actor = "session:\xff" }, geopulse.ReasonInvalidUTF8},
		{"detail not JSON", func(e *geopulse.AuditEntry) { e.Detail = "posts=3" }, geopulse.ReasonInvalidField},
		{"detail an array", func(e *geopulse.AuditEntry) { e.Detail = "[1]" }, geopulse.ReasonInvalidField},
		{"detail null", func(e *geopulse.AuditEntry) { e.Detail = "null" }, geopulse.ReasonInvalidField},
		{"detail with trailing data", func(e *geopulse.AuditEntry) { e.Detail = `{} {}` }, geopulse.ReasonInvalidField},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := ok
			tt.change(&e)
			err := e.Validate()
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if geopulse.ErrorCode(err) != geopulse.EINVALID || geopulse.ErrorReason(err) != tt.reason {
				t.Fatalf("Validate() = %v, want %s/%s", err, geopulse.EINVALID, tt.reason)
			}
		})
	}
}

func TestAuditFilterValidate(t *testing.T) {
	tests := []struct {
		name  string
		f     geopulse.AuditFilter
		valid bool
		page  int
	}{
		{"zero", geopulse.AuditFilter{}, true, geopulse.AuditDefaultLimit},
		{"max limit", geopulse.AuditFilter{Limit: geopulse.AuditMaxLimit}, true, geopulse.AuditMaxLimit},
		{"range", geopulse.AuditFilter{From: auditT0, To: auditT0.Add(time.Hour)}, true, geopulse.AuditDefaultLimit},
		{"empty range", geopulse.AuditFilter{From: auditT0, To: auditT0}, true, geopulse.AuditDefaultLimit},
		{"limit too large", geopulse.AuditFilter{Limit: geopulse.AuditMaxLimit + 1}, false, 0},
		{"negative limit", geopulse.AuditFilter{Limit: -1}, false, 0},
		{"negative after", geopulse.AuditFilter{After: -1}, false, 0},
		{"reversed range", geopulse.AuditFilter{From: auditT0, To: auditT0.Add(-time.Second)}, false, 0},
		{"year 10000", geopulse.AuditFilter{To: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)}, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.f.Validate()
			if tt.valid != (err == nil) {
				t.Fatalf("Validate() = %v, want valid %v", err, tt.valid)
			}
			if !tt.valid {
				if geopulse.ErrorCode(err) != geopulse.EINVALID {
					t.Fatalf("code = %q, want %q", geopulse.ErrorCode(err), geopulse.EINVALID)
				}
				return
			}
			if got := tt.f.PageSize(); got != tt.page {
				t.Fatalf("PageSize() = %d, want %d", got, tt.page)
			}
		})
	}
}

// chain builds an intact chain of n entries as a store would.
func chain(n int) []*geopulse.AuditEntry {
	var out []*geopulse.AuditEntry
	prev := geopulse.AuditGenesisHash()
	for i := 1; i <= n; i++ {
		e := &geopulse.AuditEntry{WorkspaceID: 1, Seq: int64(i), At: auditT0.Add(time.Duration(i) * time.Second),
			Actor: "system", Action: "feed.read", Target: "place:1", Detail: `{"i":` + string(rune('0'+i)) + `}`, PrevHash: prev}
		e.Hash = e.ComputeHash()
		prev = e.Hash
		out = append(out, e)
	}
	return out
}

func TestAuditVerifier(t *testing.T) {
	tests := []struct {
		name string
		// tamper changes the stored log and returns the recorded head
		// (seq, hash); the head is the intact chain's last entry unless
		// tamper says otherwise.
		tamper   func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry
		head     func(c []*geopulse.AuditEntry) (int64, []byte)
		entries  int64
		brokenAt int64
		reason   string
	}{
		{name: "intact", entries: 5},
		{name: "empty", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry { return nil },
			head: func([]*geopulse.AuditEntry) (int64, []byte) { return 0, nil }},
		{name: "edited detail", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			c[2].Detail = `{"i":0}`
			return c
		}, entries: 2, brokenAt: 3, reason: geopulse.AuditHashMismatch},
		{name: "edited time", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			c[0].At = c[0].At.Add(-time.Hour)
			return c
		}, entries: 0, brokenAt: 1, reason: geopulse.AuditHashMismatch},
		{name: "edited and rehashed", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			c[2].Detail = `{"i":0}`
			c[2].Hash = c[2].ComputeHash()
			return c
		}, entries: 3, brokenAt: 4, reason: geopulse.AuditLinkMismatch},
		{name: "deleted", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			return append(c[:1:1], c[2:]...)
		}, entries: 1, brokenAt: 2, reason: geopulse.AuditSeqGap},
		{name: "deleted first", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			return c[1:]
		}, entries: 0, brokenAt: 1, reason: geopulse.AuditSeqGap},
		{name: "deleted and renumbered", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			c = append(c[:1:1], c[2:]...)
			for i, e := range c {
				e.Seq = int64(i + 1)
			}
			return c
		}, entries: 1, brokenAt: 2, reason: geopulse.AuditLinkMismatch},
		{name: "swapped", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			c[1].Seq, c[2].Seq = 3, 2
			c[1], c[2] = c[2], c[1]
			return c
		}, entries: 1, brokenAt: 2, reason: geopulse.AuditLinkMismatch},
		{name: "last deleted", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			return c[:4]
		}, entries: 4, brokenAt: 5, reason: geopulse.AuditHeadMismatch},
		{name: "all deleted, head kept", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			return nil
		}, entries: 0, brokenAt: 1, reason: geopulse.AuditHeadMismatch},
		{name: "forged entry appended", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			e := *c[4]
			e.Seq, e.PrevHash = 6, c[4].Hash
			e.Hash = e.ComputeHash()
			return append(c, &e)
		}, entries: 5, brokenAt: 6, reason: geopulse.AuditHeadMismatch},
		{name: "last replaced by a forged entry", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			e := *c[4]
			e.Detail = `{"i":0}`
			e.Hash = e.ComputeHash()
			c[4] = &e
			return c
		}, entries: 4, brokenAt: 5, reason: geopulse.AuditHeadMismatch},
		{name: "last edited", tamper: func(c []*geopulse.AuditEntry) []*geopulse.AuditEntry {
			c[4].Detail = `{"i":0}`
			return c
		}, entries: 4, brokenAt: 5, reason: geopulse.AuditHashMismatch},
		{name: "no head recorded", head: func([]*geopulse.AuditEntry) (int64, []byte) { return 0, nil },
			entries: 0, brokenAt: 1, reason: geopulse.AuditHeadMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := chain(5)
			headSeq, headHash := c[4].Seq, c[4].Hash
			if tt.head != nil {
				headSeq, headHash = tt.head(c)
			}
			if tt.tamper != nil {
				c = tt.tamper(c)
			}
			v := geopulse.NewAuditVerifier(headSeq, headHash)
			for _, e := range c {
				if !v.Check(e) {
					break
				}
			}
			got := v.Result()
			want := geopulse.AuditVerification{Entries: tt.entries, OK: tt.reason == "", BrokenAt: tt.brokenAt, Reason: tt.reason}
			if got.Entries != want.Entries || got.OK != want.OK || got.BrokenAt != want.BrokenAt || got.Reason != want.Reason {
				t.Fatalf("verification = %+v, want %+v", got, want)
			}
			// Head is the hash of the last entry found intact, as stored
			// (a rewritten entry shows only at the next one's link).
			wantHead := geopulse.AuditGenesisHash()
			for _, e := range c {
				if e.Seq == tt.entries {
					wantHead = e.Hash
				}
			}
			if !bytes.Equal(got.Head, wantHead) {
				t.Fatalf("head = %s, want %s", hex.EncodeToString(got.Head), hex.EncodeToString(wantHead))
			}
		})
	}
}

func TestAuditActorKey(t *testing.T) {
	tests := []struct{ hash, want string }{
		{geopulse.HashAPIKey("gp_secret"), "key:" + geopulse.HashAPIKey("gp_secret")[:8]},
		{"abc", "key:abc"},
	}
	for _, tt := range tests {
		if got := geopulse.AuditActorKey(tt.hash); got != tt.want {
			t.Errorf("AuditActorKey(%q) = %q, want %q", tt.hash, got, tt.want)
		}
	}
}
