// Package instaloader decodes the JSON files Instaloader writes beside each
// post or story item it downloads ({"node": <Instagram GraphQL media node>,
// "instaloader": {"version", "node_type"}}) into geopulse posts.
//
// Such files are the operator's own exports, imported with `geopulse
// import`; collecting them is Instaloader's business and must stay within
// what the operator is entitled to (see DESIGN.md: permitted sources only).
//
// Posts meet the invariants of the canonical decoder (package canonical)
// and use Source "instagram" and the node id as SourceID, like package
// instagram, so one media seen through Instaloader and through the v1 API
// (whose ids are cut to the same pk) is one post. Key decisions:
//
//   - A tagged location becomes a LocationCentroid with AccuracyM 50 (the
//     place's pin; see package instagram). Instaloader stores lat/lng only
//     when it was logged in; a location without them, no location, or 0,0
//     is no_location.
//   - Kinds: GraphImage and GraphSidecar are photos, GraphVideo a video (a
//     reel when product_type is "clips"), GraphStory* and node_type
//     StoryItem stories, which expire at expiring_at_timestamp (else 24 h
//     after they were taken). Profiles, hashtags and saved iterators are
//     unsupported.
//   - The owner's is_private becomes Author.Private; refusing such posts is
//     the pipeline gate's decision, made once for every source.
//   - Tagged users, comments and likers are not read: they concern people
//     who did not post. The pipeline extracts caption hashtags and mentions.
//   - Ids and counts are accepted as numbers or strings. Invalid avatar and
//     media URLs are dropped, not fatal.
//   - A file is read whole, at most MaxPayloadBytes (ETOOLARGE beyond,
//     before anything is handed out), then walked with encoding/json's
//     streaming decoder: one object, NDJSON or a JSON array; every export
//     gets its own Item, and a syntax error ends the walk with
//     malformed_json after the exports before it.
//
// The post-building rules are a copy of package instagram's rather than an
// import, because connectors do not import one another
// (docs/ARCHITECTURE.md); both packages' tests pin them to the same
// invariants by re-encoding every post into the canonical schema.
package instaloader
