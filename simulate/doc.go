// Package simulate is a synthetic but realistic world for demos, tests and
// benchmarks: real cities and neighbourhoods, venues with OpenStreetMap
// categories and well-known brands, authors with heavy-tailed follower
// counts, interests and weekly routines, and an endless stream of posts
// whose places, times, captions, hashtags and engagement follow from them.
//
// Invariants:
//   - Deterministic: the same Options (with End set) give the same world,
//     and the same sequence of calls gives the same posts. Nothing reads the
//     clock except a zero Options.End.
//   - Every post is unique on (Source, SourceID); ID and Author.ID are the
//     root package's PostID and AuthorID of them.
//   - Next's TakenAt never decreases. Stories expire 24 h after TakenAt.
//   - A post at a venue lies inside it: within the radius of a point venue,
//     inside the polygon of a park, stadium, beach or zoo. Its PlaceName is
//     the venue's name, which is unique in the world.
//   - Hashtags and Mentions hold exactly the lower-case tags the caption
//     contains, in the form the text package parses back ([a-z0-9_]).
//   - Cell, PlaceIDs and Language are left empty: the pipeline derives them.
//   - Only example domains appear in URLs (https://cdn.example/...).
//
// It imports only the root package and the standard library, so any layer's
// tests can use it.
package simulate
