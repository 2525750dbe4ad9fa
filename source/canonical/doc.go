// Package canonical is the codec of geopulse's canonical post schema (version
// 1): the snake_case JSON form of a geopulse.Post that every intake path
// accepts — POST /v1/posts, file import and simulator output. docs/SCHEMA.md
// is the user-facing description of the schema.
//
// The decoder is a hand-written strict JSON reader rather than encoding/json,
// for three reasons: speed (ingest must sustain tens of thousands of posts a
// second, and reflection-based decoding would use most of that budget), exact
// error reporting (the field path and byte offset of each problem go back to
// the sender per item), and strictness that encoding/json does not offer
// (case-sensitive field names, rejection of unpaired surrogate escapes and
// NUL characters instead of silent replacement).
//
// Invariants of every post the decoder returns:
//   - Lat is within ±90 and Lon within ±180; AccuracyM is finite and ≥ 0.
//   - Every string is valid UTF-8 without NUL; Source, SourceID, the author's
//     SourceID, handle, hashtags and mentions contain no control characters.
//   - Caption and lists respect the Limits in force.
//   - Hashtags and mentions are lower-case, without leading '#'/'@', and
//     unique; empty lists are nil.
//   - Times are UTC; Kind is valid (photo when the item gave none).
//   - ID = geopulse.PostID(Source, SourceID); Author.ID =
//     geopulse.AuthorID(Source, Author.SourceID) and Author.Source = Source.
//   - Cell, PlaceIDs, Expired and Author.UpdatedAt are left zero, and
//     ExpiresAt is nil unless the item gave it: those belong to the pipeline.
//
// The decoder does not judge a post against a clock or a policy (future
// timestamps, private accounts, suppression lists): the pipeline's gate does,
// so that the decision is made once, with one clock, for every intake path.
//
// Encode and AppendJSON write the same schema; a post the decoder accepted
// round-trips through them unchanged.
package canonical
