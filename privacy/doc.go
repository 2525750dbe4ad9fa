// Package privacy enforces the promises that outlive ingest: content that
// must disappear on time does (story expiry now; retention, erasure and
// suppression as they arrive).
//
// Invariant: a story's caption, tags and media are gone from the store within
// one janitor interval of its expires_at; counts derived from it survive.
package privacy
