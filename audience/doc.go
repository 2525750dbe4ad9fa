// Package audience is the one way audience data leaves geopulse: every
// output (insight, comparison, cross-visitation, foot traffic, exports)
// is computed by the store as exact counts and then passes through a
// Floor here, which drops rows of fewer than k distinct authors, adds
// Laplace noise keyed to the question and rounds. Individuals appear only
// as public influencers above the workspace's threshold, never with
// places or times. Exports are refused below the segment floor.
//
// Noise is deterministic per (workspace key, question, row): asking the
// same question again returns the same answer, so repeating it spends no
// privacy budget and averaging learns nothing. docs/AUDIENCES.md states
// the budget.
package audience
