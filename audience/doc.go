// Package audience is the one way audience data leaves geopulse: every
// output (insight, comparison, cross-visitation, foot traffic, exports)
// is computed by the store as exact counts and then passes through a
// Floor here, which adds Laplace noise keyed to the audience and the row,
// drops rows whose noisy count is under k distinct authors, and rounds.
// Individuals appear only as public influencers above the workspace's
// threshold, never with places or times. Exports are refused below the
// segment floor.
//
// Noise is deterministic per (workspace key, audience, row): asking for
// the same count again, through any endpoint, returns the same answer, so
// repeating it spends no privacy budget and averaging learns nothing.
// docs/AUDIENCES.md states the budget.
package audience
