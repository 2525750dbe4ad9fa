package duckdb

import (
	"context"
	"database/sql"
	"fmt"
)

// maxCachedAuthors bounds authorCache.states. An entry costs ~70 bytes
// with the map's overhead, so the cache stays under ~70 MB; when it is full
// it is emptied and refills from SQL as batches come.
const maxCachedAuthors = 1 << 20

// authorState is what a batch needs to know of a stored author: its card
// hash (is the card new?) and its counts, which equal its newest
// author_stats row (does an observation add a row?).
type authorState struct {
	hash                        int64
	followers, following, posts int64
}

// authorCache mirrors the authors table for the writer, so that a batch
// looks up in SQL only the authors this process has not written or read
// yet: most posts come from authors seen before. Every access holds wmu.
//
// Only UpsertPosts adds authors, but other writes remove them (a compliance
// erasure). So the cache also keeps the row count of authors and the XOR
// of its card hashes as they must be after this process's own writes, and
// each batch checks them against the table with one narrow scan: a
// difference means someone else changed authors, and the cache is dropped.
type authorCache struct {
	states map[int64]authorState
	// known is whether rows and xor hold the table's values.
	known bool
	rows  int64
	xor   int64
}

// authorDigestSQL reads what authorCache.check compares.
const authorDigestSQL = `SELECT count(*), coalesce(bit_xor(card_hash), 0) FROM authors`

// check drops the cache unless the authors table has the row count and
// hash digest that the cache expects.
func (ac *authorCache) check(ctx context.Context, stmt *sql.Stmt) error {
	var rows, xor int64
	if err := stmt.QueryRowContext(ctx).Scan(&rows, &xor); err != nil {
		return fmt.Errorf("authors digest: %w", err)
	}
	if !ac.known || rows != ac.rows || xor != ac.xor {
		ac.states = nil
		ac.known, ac.rows, ac.xor = true, rows, xor
	}
	return nil
}

// lookup returns the cached state of id.
func (ac *authorCache) lookup(id int64) (authorState, bool) {
	s, ok := ac.states[id]
	return s, ok
}

// authorWrites is what a batch wrote to authors, applied to the cache once
// its transaction has committed.
type authorWrites struct {
	states  map[int64]authorState // every author of the batch, as stored now
	added   int64                 // rows appended to authors
	xorDiff int64                 // XOR of the hashes deleted and appended
}

// apply records a committed batch.
func (ac *authorCache) apply(w *authorWrites) {
	if w == nil || !ac.known {
		return
	}
	ac.rows += w.added
	ac.xor ^= w.xorDiff
	if ac.states == nil || len(ac.states)+len(w.states) > maxCachedAuthors {
		ac.states = make(map[int64]authorState, len(w.states))
	}
	for id, s := range w.states {
		ac.states[id] = s
	}
}

// forget drops everything: after a failed transaction the table's state is
// whatever the rollback left, and the next batch reads it again.
func (ac *authorCache) forget() {
	*ac = authorCache{}
}
