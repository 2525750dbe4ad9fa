// Package instagram decodes Instagram payloads into geopulse posts: the
// legacy v1 API (V1, DecodeV1), the Graph API (Graph) and webhooks
// (DecodeWebhook, VerifySignature). Instaloader exports, which carry
// Instagram's web GraphQL structure, are package instaloader.
//
// Every post it returns meets the invariants of the canonical decoder (see
// package canonical): ID and Author.ID derived from Source "instagram" and
// the ids, UTC times, a valid Kind, lower-case unique hashtags without
// sigil (nil when empty), valid UTF-8, no control characters in ids and
// handle, only absolute http(s) media URLs, coordinates on the globe and
// LocationFrom set. The tests re-encode every post into the canonical
// schema and decode it back unchanged, because that is how posts travel to
// the workers.
//
// Key decisions:
//
//   - One source name, "instagram", for every format, so one media seen by
//     two of them is one post. v1 ids "<pk>_<owner>" are cut to the pk,
//     which is also the Instaloader node id. Graph ids are another id space:
//     a Graph copy and a v1 copy of one media stay two posts (Graph's
//     optional ig_id is not used, because using it only when it happens to
//     be requested would split one Graph media into two).
//   - Location. v1 media carry the tagged place (a Facebook Place): its pin
//     becomes a LocationCentroid with AccuracyM 50 (see placeAccuracyM).
//     No location, or 0,0, is no_location. The Graph API exposes no media
//     location at all, so Graph media are attributed to a Venue the caller
//     names (LocationVenue, AccuracyM = the venue's radius).
//   - Authors without ids. Graph media often lack owner.id; the business
//     discovery account or else "@"+username stands in (see
//     authorByHandle). Hashtag media carry no author and are rejected
//     (missing_field): aggregates count distinct authors, so none may be
//     invented.
//   - Loose types, strict values. Ids and counts are accepted as strings
//     or numbers, because Instagram's endpoints disagree; a value that is
//     neither, negative counts, coordinates off the globe are rejected.
//     Broken avatar and media URLs are dropped, not fatal.
//   - Other people are not collected: comment and like lists and photo tags
//     (users_in_photo) are skipped; explicit tags become Hashtags, and the
//     pipeline extracts caption hashtags and mentions.
//   - One outcome per element. Each element of a list becomes an Item with
//     a Post or a *geopulse.Error (Reject reasons: malformed_json,
//     invalid_field, missing_field, invalid_coordinates, invalid_utf8,
//     too_large, no_location, unsupported); a bad one never stops the rest.
//     Duplicates are passed on; the store's upsert on (source, source_id)
//     makes them one row.
//   - Bounded memory. A payload is read whole, up to MaxPayloadBytes, and
//     refused beyond it (ETOOLARGE) before any element is handed out; a
//     syntax error ends the decoding with malformed_json and its byte
//     offset after the elements before it were handed out.
//   - Decoders judge payloads, not policy: private accounts, future
//     timestamps and suppression lists are the pipeline gate's business.
//     Graph and v1 payloads say nothing about privacy (the APIs return
//     public media only), so Author.Private stays false.
//
// The structure is walked with encoding/json's streaming decoder and each
// element decoded into small structs. It is slower than the canonical
// codec's hand-written scanner, and fast enough: these formats come from
// file imports and pollers, not from the high-rate intake path (see the
// benchmarks).
package instagram
