// Package privacy enforces the promises that outlive ingest: content that
// must disappear on time does — story expiry (Janitor), retention per
// source and kind (Retention) — and people can see, object and be
// forgotten: data-subject access, erasure and objection (Subjects).
//
// Invariant: a story's caption, tags and media are gone from the store within
// one janitor interval of its expires_at; counts derived from it survive.
package privacy
