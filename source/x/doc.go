// Package x decodes what the X API v2 sends: recent-search pages requested
// with expansions=author_id,geo.place_id,attachments.media_keys, and the
// compliance events X publishes (the compliance firehose and the results of
// batch compliance jobs). Pollers use NextToken and NewestID to page through
// a search.
//
// # Input
//
// Decode takes one page object, NDJSON of page objects, or NDJSON of
// compliance events, mixed freely. When the first line is a complete JSON
// value the input is read as NDJSON, line by line, so a broken line costs
// only itself; otherwise it is one (pretty-printed) document. A document or
// a line may be at most MaxPageBytes, which bounds memory whatever the input
// size: a larger document is refused whole with ETOOLARGE, a larger line is
// reported as an ETOOLARGE item and skipped.
//
// Item.Index counts elements across the input: every tweet of every page,
// every compliance event, and every line that could not be read (one item
// whatever it held). A document that is not JSON, not an object, an X error
// response ({"title","detail"} or {"errors"} without data) or no X shape at
// all makes Decode return an EINVALID *geopulse.Error; the same on an NDJSON
// line is that line's item.
//
// # Posts
//
// Source "x"; SourceID is the tweet id, Author.SourceID the author_id, and
// the user card comes from includes.users (protected → Author.Private, so
// the pipeline's gate drops it; verified_type "business" → Business). The
// caption is note_tweet.text when present, else text, with the &amp; &lt;
// &gt; escapes X applies undone. Retweets are refused as unsupported: the
// original tweet is collected on its own.
//
// Location, in this order:
//   - geo.coordinates, a GeoJSON Point [lon, lat] → LocationPoint, accuracy
//     0. The point [0, 0] is taken as "none", as on every source here.
//   - geo.place_id joined to includes.places → the centre of the place's
//     bbox [w, s, e, n] (boxes across the antimeridian have w > e) as
//     LocationBBox, with AccuracyM = half the box's diagonal (great circle),
//     so a city-sized box never counts as inside a 100 m venue. A place
//     that is not in includes gives no_location.
//   - otherwise no_location.
//
// The place's full_name is the PlaceName either way.
//
// Kind is photo when a photo is attached, else video for video or
// animated_gif, else text. Media URLs are the photo url, or the
// preview_image_url of a video (what the vision workers can label).
// like_count → Likes, reply_count → Comments, impression_count → Views;
// retweet and quote counts have no field in geopulse.Post.
//
// Every post passes through the canonical codec (source/canonical), which
// checks and normalises it exactly as it does posts sent to the API: tags
// lower-cased and de-duplicated, ids without control characters, media and
// avatar URLs absolute http(s), caption and list limits. A tweet the codec
// refuses is an item with that error. Tweets repeated within a page are
// emitted each time: stores are idempotent on (source, source_id).
//
// Text is checked for valid UTF-8 on the raw bytes of each tweet and of the
// user, place and media it refers to, because encoding/json would silently
// replace invalid bytes.
//
// # Compliance
//
// Firehose events, bare or wrapped in {"data": …}: delete {tweet{id,
// author_id}}, user_delete, user_protect, user_unprotect {user{id}} and
// scrub_geo {user{id}, up_to_tweet_id}, each with event_at. A scrub's UpTo is
// the creation time encoded in the up_to_tweet_id snowflake
// ((id >> 22) + 1288834974657 ms since the Unix epoch). X's recommended
// action for user_suspend/user_unsuspend is that of user_protect /
// user_unprotect, so they map onto those (the suppression lifts when the
// suspension does). Batch compliance job result lines {id, action, created_at,
// redacted_at, reason} are read as tweet results: action "delete" → delete,
// at redacted_at. Every other event (withheld, drop, undrop, tweet_edit,
// user_undelete, user_withheld, user_profile_modification) is an
// unsupported item: geopulse has no matching action yet.
//
// Decoders do not judge privacy or clocks: a protected author or a future
// created_at is passed on for the pipeline's gate to refuse.
package x
