// Package pipeline holds the stages every post goes through on its way into
// the store, whatever door it came in by (API, import, simulator, stream):
//
//	gate → enrich (cell, tags) → match places → store
//
// The gate enforces the ingest-time privacy and sanity rules: coordinates in
// range, no timestamps from the future, no posts of private accounts, story
// expiry. Nothing rejected here reaches the store; every rejection is an
// *geopulse.Error with a Reason and is counted.
//
// The package also owns the live place index: Places wraps a store's place
// methods so that every create, reshape or delete is validated, refreshes the
// index that ingest matches against, and backfills matches for posts already
// stored. Invariant: a place's matches equal the stored posts its shape
// contains, whether the post or the place came first.
package pipeline
