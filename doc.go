// Package geopulse is the vocabulary of the product: the domain types (posts,
// authors, places, workspaces), the service interfaces that stores and logic
// packages implement, and the error codes every layer speaks.
//
// It imports only the standard library. Everything else depends on it, never
// the other way round, so a reader learns the whole domain from this one
// directory and each adapter (duckdb, http, …) can be swapped independently.
//
// Invariants:
//   - A post is identified by (Source, SourceID); PostID derives its int64 key,
//     so every write is idempotent and redelivery never duplicates.
//   - Every query is scoped to one workspace and sees only posts that matched
//     one of that workspace's places.
//   - Times are UTC.
package geopulse
