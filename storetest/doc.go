// Package storetest is the contract suite every geopulse.Store passes: the
// embedded DuckDB store today, the PostgreSQL store later. A store's test
// calls Run with a function that opens a fresh, empty store on an injected
// clock; each subtest opens its own store, so subtests are independent and
// can be run alone with -run.
//
// The suite pins down behaviour, not implementation: error codes
// (geopulse.ErrorCode) for every failure a caller can cause, workspace
// isolation through every method, idempotent ingest, the feed's order,
// filters and cursors (checked against a reference model over a fixture
// with systematically varied fields), story expiry, and analytics computed
// by hand on a small world. Times go in and come out in UTC.
package storetest
