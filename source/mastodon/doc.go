// Package mastodon decodes Mastodon Status entities, as the REST API
// returns them (timelines, search, a status), or as NDJSON, one status per
// line, from an export or a stream recorder.
//
// # Input
//
// A JSON array of statuses (read whole, at most MaxArrayBytes; Item.Index is
// the array position), or NDJSON (streamed, each line at most
// MaxStatusBytes; Index counts non-blank lines), or one status object,
// compact or pretty-printed. A body that is not JSON, or an array that is
// not well-formed, makes Decode return an EINVALID *geopulse.Error
// (ReasonMalformedJSON, with the byte offset); a bad line or element is an
// item with its reason and the rest go on.
//
// # Location
//
// Mastodon has no location field, so a status is located only when its
// author put a location in it, in the content or its link preview card
// (checked in that order: link targets, then the text, then the card's
// URL):
//   - a geo: URI (RFC 5870), "geo:48.2082,16.3738" with an optional
//     ";u=<metres>" uncertainty → LocationPoint, AccuracyM = u (0 without).
//     "geo:0,0" is the Android convention for "search for the address in
//     ?q=" and gives no location.
//   - an OpenStreetMap link with a marker, openstreetmap.org/?mlat=…&mlon=…
//     → LocationPoint, accuracy 0: the author placed the pin.
//   - an OpenStreetMap view, …/#map=zoom/lat/lon (or the older
//     ?lat=…&lon=…&zoom=…) → LocationCentroid: the centre of what the author
//     was looking at. AccuracyM is half the width of a 1024-pixel-wide view
//     at that zoom at the equator, 2 × 40,075 km / 2^zoom (zoom 17 ≈ 611 m,
//     12 ≈ 19.6 km), capped at 9,990 km; overstated away from the equator,
//     never understated.
//
// Anything else is no_location.
//
// # Posts
//
// Source "mastodon". SourceID is the status uri, its ActivityPub id, which
// is unique across instances (ids are per instance). Author.SourceID is the
// account url, or acct@instance when it has none; the handle is always the
// full acct, user@instance, taking the instance from the account url (or
// the status uri) when the API gives a local acct; mentions are made full
// the same way from their url.
//
// Only "public" and "unlisted" statuses of unlocked accounts are public:
// "private", "direct", any other visibility, and a locked account set
// Author.Private, so the pipeline's gate drops them. Reblogs (boosts) are
// refused as unsupported: the original status is collected on its own.
//
// The caption is the spoiler_text (content warning) and the content, as
// text: tags dropped, <br> and paragraph ends as line breaks, entities
// decoded; the account's note (bio) likewise. Kind is photo when an image is
// attached, video for video or gifv, else text; media URLs are the image
// url (remote_url when the instance did not cache it) or a video's
// preview_url. favourites_count → Likes, replies_count → Comments;
// Mastodon has no view count and geopulse.Post no reblog count.
//
// Every post passes through the canonical codec (source/canonical), which
// checks and normalises it as it does posts sent to the API. Text is
// checked for valid UTF-8 on each status's raw bytes, because encoding/json
// would silently replace invalid bytes. Statuses repeated in the input are
// emitted each time: stores are idempotent on (source, source_id).
package mastodon
