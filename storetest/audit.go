package storetest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

// AuditStore is what the audit suite needs of a store.
type AuditStore interface {
	geopulse.AuditStore
	io.Closer
}

// AuditOpener returns a fresh, empty store whose clock is now, and exec,
// which runs one SQL statement directly on that store's database, past the
// store and any append-only guard (triggers), as someone with access to the
// database could. The suite's statements are plain SQL that DuckDB and
// PostgreSQL both accept, on the audit_log table that both stores define
// with the same columns (workspace_id, seq, logged_at, actor, detail, …).
type AuditOpener func(t *testing.T, now func() time.Time) (s AuditStore, exec func(t *testing.T, query string))

// RunAudit runs the audit log's contract: appends build one gap-free hash
// chain per workspace even when concurrent, FindAudit filters and isolates
// workspaces, and VerifyAudit finds rows edited, deleted or moved behind
// the store's back. It is separate from Run because tampering needs the
// store's raw database (exec), which only the store's own test has.
func RunAudit(t *testing.T, open AuditOpener) {
	t.Run("Append", func(t *testing.T) { testAuditAppend(t, open) })
	t.Run("Invalid", func(t *testing.T) { testAuditInvalid(t, open) })
	t.Run("Concurrent", func(t *testing.T) { testAuditConcurrent(t, open) })
	t.Run("Find", func(t *testing.T) { testAuditFind(t, open) })
	t.Run("Tamper", func(t *testing.T) { testAuditTamper(t, open) })
}

// auditEnv is one audit test's store, clock and raw database access.
type auditEnv struct {
	t     *testing.T
	s     AuditStore
	exec  func(t *testing.T, query string)
	clock *clock
	ctx   context.Context
}

func newAuditEnv(t *testing.T, open AuditOpener) *auditEnv {
	t.Helper()
	c := &clock{now: t0}
	s, exec := open(t, c.Now)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return &auditEnv{t: t, s: s, exec: exec, clock: c, ctx: context.Background()}
}

func (e *auditEnv) append(ws int64, action, target, detail string) *geopulse.AuditEntry {
	e.t.Helper()
	a := &geopulse.AuditEntry{WorkspaceID: ws, Actor: "key:0123abcd", Action: action, Target: target, Detail: detail}
	if err := e.s.AppendAudit(e.ctx, a); err != nil {
		e.t.Fatalf("append %s: %v", action, err)
	}
	return a
}

func (e *auditEnv) find(f geopulse.AuditFilter) []*geopulse.AuditEntry {
	e.t.Helper()
	got, err := e.s.FindAudit(e.ctx, f)
	if err != nil {
		e.t.Fatalf("find audit %+v: %v", f, err)
	}
	return got
}

func (e *auditEnv) verify(ws int64) geopulse.AuditVerification {
	e.t.Helper()
	v, err := e.s.VerifyAudit(e.ctx, ws)
	if err != nil {
		e.t.Fatalf("verify audit of workspace %d: %v", ws, err)
	}
	return v
}

// wantIntact fails unless workspace ws's chain is intact with n entries.
func (e *auditEnv) wantIntact(ws, n int64) {
	e.t.Helper()
	if v := e.verify(ws); !v.OK || v.Entries != n || v.BrokenAt != 0 || v.Reason != "" {
		e.t.Fatalf("verify workspace %d = %+v, want OK with %d entries", ws, v, n)
	}
}

func seqs(entries []*geopulse.AuditEntry) []int64 {
	out := make([]int64, len(entries))
	for i, e := range entries {
		out[i] = e.Seq
	}
	return out
}

func testAuditAppend(t *testing.T, open AuditOpener) {
	e := newAuditEnv(t, open)
	e.wantIntact(1, 0)
	var appended []*geopulse.AuditEntry
	for i, action := range []string{geopulse.AuditPlaceCreate, geopulse.AuditFeedRead, geopulse.AuditExport} {
		e.clock.Set(t0.Add(time.Duration(i)*time.Minute + 1500*time.Nanosecond))
		a := e.append(1, action, "place:12", fmt.Sprintf(`{"i": %d, "note": "é"}`, i))
		wantAt := e.clock.Now().Truncate(time.Microsecond)
		prev := geopulse.AuditGenesisHash()
		if i > 0 {
			prev = appended[i-1].Hash
		}
		switch {
		case a.Seq != int64(i+1):
			t.Fatalf("entry %d: seq = %d", i, a.Seq)
		case !a.At.Equal(wantAt) || a.At.Location() != time.UTC:
			t.Fatalf("entry %d: at = %v, want the store's clock %v in UTC", i, a.At, wantAt)
		case !bytes.Equal(a.PrevHash, prev):
			t.Fatalf("entry %d: prev hash = %x, want %x", i, a.PrevHash, prev)
		case !bytes.Equal(a.Hash, a.ComputeHash()):
			t.Fatalf("entry %d: hash = %x, want ComputeHash %x", i, a.Hash, a.ComputeHash())
		}
		appended = append(appended, a)
	}
	got := e.find(geopulse.AuditFilter{WorkspaceID: 1})
	if len(got) != len(appended) {
		t.Fatalf("found %d entries, want %d", len(got), len(appended))
	}
	for i := range got {
		if !reflect.DeepEqual(got[i], appended[i]) {
			t.Fatalf("entry %d read back:\n got %+v\nwant %+v", i, got[i], appended[i])
		}
	}
	e.wantIntact(1, 3)
	if v := e.verify(1); !bytes.Equal(v.Head, appended[2].Hash) {
		t.Fatalf("head = %x, want the last hash %x", v.Head, appended[2].Hash)
	}

	// The system workspace has a chain of its own.
	sys := e.append(geopulse.AuditSystemWorkspace, geopulse.AuditComplianceApply, "", "")
	if sys.Seq != 1 || !bytes.Equal(sys.PrevHash, geopulse.AuditGenesisHash()) {
		t.Fatalf("system entry: seq %d prev %x, want the start of a chain", sys.Seq, sys.PrevHash)
	}
	e.wantIntact(geopulse.AuditSystemWorkspace, 1)
	e.wantIntact(1, 3)
}

func testAuditInvalid(t *testing.T, open AuditOpener) {
	e := newAuditEnv(t, open)
	bad := []geopulse.AuditEntry{
		{WorkspaceID: 1, Action: geopulse.AuditFeedRead},
		{WorkspaceID: 1, Actor: "system"},
		{WorkspaceID: -1, Actor: "system", Action: geopulse.AuditFeedRead},
		{WorkspaceID: 1, Actor: "system", Action: geopulse.AuditFeedRead, Detail: "not json"},
		{WorkspaceID: 1, Actor: "system", Action: geopulse.AuditFeedRead, Target: "place:\x00"},
	}
	for _, a := range bad {
		wantCode(t, e.s.AppendAudit(e.ctx, &a), geopulse.EINVALID)
		if a.Seq != 0 || a.Hash != nil {
			t.Fatalf("refused entry was changed: %+v", a)
		}
	}
	e.wantIntact(1, 0)
	for _, f := range []geopulse.AuditFilter{
		{WorkspaceID: 1, Limit: -1},
		{WorkspaceID: 1, Limit: geopulse.AuditMaxLimit + 1},
		{WorkspaceID: 1, After: -1},
		{WorkspaceID: 1, From: t0, To: t0.Add(-time.Second)},
	} {
		_, err := e.s.FindAudit(e.ctx, f)
		wantCode(t, err, geopulse.EINVALID)
	}
}

// testAuditConcurrent appends from several goroutines into two workspaces
// at once: each chain must come out whole, gap-free, and with every
// goroutine's entries in the order it appended them.
func testAuditConcurrent(t *testing.T, open AuditOpener) {
	e := newAuditEnv(t, open)
	const writers, each = 4, 10
	var wg sync.WaitGroup
	errs := make(chan error, 2*writers*each)
	for _, ws := range []int64{1, 2} {
		for g := range writers {
			wg.Go(func() {
				for n := range each {
					a := &geopulse.AuditEntry{WorkspaceID: ws, Actor: "system", Action: geopulse.AuditFeedRead,
						Detail: fmt.Sprintf(`{"g":%d,"n":%d}`, g, n)}
					if err := e.s.AppendAudit(e.ctx, a); err != nil {
						errs <- err
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent append: %v", err)
	}
	for _, ws := range []int64{1, 2} {
		got := e.find(geopulse.AuditFilter{WorkspaceID: ws, Limit: geopulse.AuditMaxLimit})
		if len(got) != writers*each {
			t.Fatalf("workspace %d has %d entries, want %d", ws, len(got), writers*each)
		}
		next := map[string]int{} // goroutine → its next n
		for i, a := range got {
			if a.Seq != int64(i+1) || a.WorkspaceID != ws {
				t.Fatalf("workspace %d entry %d: seq %d workspace %d", ws, i, a.Seq, a.WorkspaceID)
			}
			var g, n int
			if _, err := fmt.Sscanf(a.Detail, `{"g":%d,"n":%d}`, &g, &n); err != nil {
				t.Fatalf("detail %q: %v", a.Detail, err)
			}
			key := fmt.Sprint(g)
			if n != next[key] {
				t.Fatalf("workspace %d: goroutine %d's entry %d at seq %d, want its entry %d", ws, g, n, a.Seq, next[key])
			}
			next[key]++
		}
		e.wantIntact(ws, writers*each)
	}
}

func testAuditFind(t *testing.T, open AuditOpener) {
	e := newAuditEnv(t, open)
	// Workspace 1: seq 1..5, one hour apart; workspace 2's entries are
	// interleaved in time, with the same actions, and must never show.
	actions := []string{geopulse.AuditFeedRead, geopulse.AuditPlaceCreate, geopulse.AuditPrivacyErasure,
		geopulse.AuditPrivacyAccess, geopulse.AuditFeedRead}
	for i, action := range actions {
		e.clock.Set(t0.Add(time.Duration(i) * time.Hour))
		e.append(1, action, fmt.Sprintf("place:%d", i), "")
		e.append(2, action, "place:99", "")
	}
	e.append(2, geopulse.AuditExport, "", "")

	tests := []struct {
		name string
		f    geopulse.AuditFilter
		want []int64
	}{
		{"all", geopulse.AuditFilter{WorkspaceID: 1}, []int64{1, 2, 3, 4, 5}},
		{"after", geopulse.AuditFilter{WorkspaceID: 1, After: 3}, []int64{4, 5}},
		{"after the end", geopulse.AuditFilter{WorkspaceID: 1, After: 5}, nil},
		{"limit", geopulse.AuditFilter{WorkspaceID: 1, Limit: 2}, []int64{1, 2}},
		{"next page", geopulse.AuditFilter{WorkspaceID: 1, After: 2, Limit: 2}, []int64{3, 4}},
		{"from", geopulse.AuditFilter{WorkspaceID: 1, From: t0.Add(3 * time.Hour)}, []int64{4, 5}},
		{"to is exclusive", geopulse.AuditFilter{WorkspaceID: 1, To: t0.Add(2 * time.Hour)}, []int64{1, 2}},
		{"from and to", geopulse.AuditFilter{WorkspaceID: 1, From: t0.Add(time.Hour), To: t0.Add(3 * time.Hour)}, []int64{2, 3}},
		{"zone of from ignored", geopulse.AuditFilter{WorkspaceID: 1, From: t0.Add(3 * time.Hour).In(time.FixedZone("x", -7200))}, []int64{4, 5}},
		{"action", geopulse.AuditFilter{WorkspaceID: 1, Action: geopulse.AuditFeedRead}, []int64{1, 5}},
		{"action family", geopulse.AuditFilter{WorkspaceID: 1, Action: "privacy."}, []int64{3, 4}},
		{"action prefix without dot is exact", geopulse.AuditFilter{WorkspaceID: 1, Action: "privacy"}, nil},
		{"action of another workspace", geopulse.AuditFilter{WorkspaceID: 1, Action: geopulse.AuditExport}, nil},
		{"everything combined", geopulse.AuditFilter{WorkspaceID: 1, After: 1, From: t0, To: t0.Add(10 * time.Hour), Action: "feed.", Limit: 1}, []int64{5}},
		{"other workspace", geopulse.AuditFilter{WorkspaceID: 2, Action: geopulse.AuditExport}, []int64{6}},
		{"empty workspace", geopulse.AuditFilter{WorkspaceID: 3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := e.find(tt.f)
			if !slices.Equal(seqs(got), tt.want) {
				t.Fatalf("seqs = %v, want %v", seqs(got), tt.want)
			}
			for _, a := range got {
				if a.WorkspaceID != tt.f.WorkspaceID || (tt.f.WorkspaceID == 1 && a.Target == "place:99") {
					t.Fatalf("search of workspace %d found %+v", tt.f.WorkspaceID, a)
				}
			}
		})
	}
}

// testAuditTamper changes one workspace's log with SQL, as someone with
// database access could, and expects VerifyAudit to point at the change,
// while another workspace's chain stays intact. The cases share one store
// (opening one costs a second in PostgreSQL), each with a workspace of its
// own; the SQL's %[1]d is that workspace.
func testAuditTamper(t *testing.T, open AuditOpener) {
	const where = ` WHERE workspace_id = %[1]d AND seq = `
	tests := []struct {
		name     string
		sql      []string
		entries  int64
		brokenAt int64
		reason   string
	}{
		{"edited detail", []string{`UPDATE audit_log SET detail = '{"i":0}'` + where + `3`},
			2, 3, geopulse.AuditHashMismatch},
		{"edited actor", []string{`UPDATE audit_log SET actor = 'admin'` + where + `1`},
			0, 1, geopulse.AuditHashMismatch},
		{"edited time", []string{`UPDATE audit_log SET logged_at = logged_at + INTERVAL '1 second'` + where + `4`},
			3, 4, geopulse.AuditHashMismatch},
		{"moved to another workspace", []string{`UPDATE audit_log SET workspace_id = 999` + where + `2`},
			1, 2, geopulse.AuditSeqGap},
		{"deleted", []string{`DELETE FROM audit_log` + where + `3`},
			2, 3, geopulse.AuditSeqGap},
		{"deleted first", []string{`DELETE FROM audit_log` + where + `1`},
			0, 1, geopulse.AuditSeqGap},
		{"deleted and renumbered", []string{
			`DELETE FROM audit_log` + where + `3`,
			`UPDATE audit_log SET seq = seq - 1` + where + `4`,
			`UPDATE audit_log SET seq = seq - 1` + where + `5`,
		}, 2, 3, geopulse.AuditLinkMismatch},
		{"swapped", []string{
			`UPDATE audit_log SET seq = -1` + where + `2`,
			`UPDATE audit_log SET seq = 2` + where + `3`,
			`UPDATE audit_log SET seq = 3` + where + `-1`,
		}, 1, 2, geopulse.AuditLinkMismatch},
		{"last deleted", []string{`DELETE FROM audit_log` + where + `5`},
			4, 5, geopulse.AuditHeadMismatch},
		{"all deleted", []string{`DELETE FROM audit_log WHERE workspace_id = %[1]d`},
			0, 1, geopulse.AuditHeadMismatch},
	}
	e := newAuditEnv(t, open)
	const control = 2
	fill := func(ws int64) {
		for i := range 5 {
			e.clock.Set(t0.Add(time.Duration(i) * time.Minute))
			e.append(ws, geopulse.AuditFeedRead, "place:1", fmt.Sprintf(`{"i":%d}`, i+1))
		}
		e.wantIntact(ws, 5)
	}
	fill(control)
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.t = t // the helpers report to the running case
			ws := int64(100 + i)
			fill(ws)
			for _, q := range tt.sql {
				e.exec(t, fmt.Sprintf(q, ws))
			}
			v := e.verify(ws)
			if v.OK || v.Entries != tt.entries || v.BrokenAt != tt.brokenAt || v.Reason != tt.reason {
				t.Fatalf("verify = %+v, want entries %d, broken at %d (%s)", v, tt.entries, tt.brokenAt, tt.reason)
			}
			e.wantIntact(control, 5)
		})
	}
}
