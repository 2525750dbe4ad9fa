// Package flickr decodes Flickr photos.search responses (format=json,
// nojsoncallback=1) requested with extras such as geo, tags, machine_tags,
// date_taken, date_upload, owner_name, icon_server, url_o, views and media.
// Pollers use Pages to walk the result pages.
//
// # Input
//
// One response object of at most MaxPageBytes, read whole. Item.Index is
// the position in photos.photo. A response that is not JSON, or has no
// photos object, makes Decode return an EINVALID *geopulse.Error
// (ReasonMalformedJSON, with the byte offset of a syntax error); stat
// "fail" returns one with ReasonUnsupported and Flickr's code and message.
// A photo that cannot be used is an item with its reason; the rest go on.
//
// Flickr is loose with types: ids, counts, coordinates and flags arrive as
// strings or numbers, even within one page, so every such member is read
// from either. A page may repeat a photo; both copies are emitted (stores
// are idempotent on (source, source_id)).
//
// # Location
//
// Flickr marks a photo without a location with accuracy 0 and coordinates
// "0"/0, so accuracy 0, a missing coordinate or the point (0, 0) give
// no_location. So does geo_is_public 0: a location shown only to the
// owner's contacts is not public, whoever's key fetched it. Accuracy is a
// map zoom level, 1 (world) to 16 (street); absent, it is 16, Flickr's
// default. It maps to AccuracyM, a radius in metres:
//
//	level  16  15   14   13   12   11     10     9      8       7       6       5        4        3        2          1
//	metres 50  100  200  400  800  2,000  4,000  8,000  15,000  30,000  60,000  120,000  250,000  500,000  2,500,000  9,000,000
//
// Street level and one step above (15, 16) are LocationPoint: a placed pin,
// known to within a block. Coarser levels are LocationCentroid: the pin
// stands for a neighbourhood, a city (11), a region (6), a country (3) or
// the world, and the radius keeps it from matching a venue smaller than
// that (see geo's accuracy rule). Level 1 is 9,000 km rather than 10,000
// because the pipeline's gate refuses 10,000 km and more.
//
// # Posts
//
// Source "flickr"; SourceID is the photo id, Author.SourceID the owner's
// NSID. ispublic 0 sets Author.Private, so the pipeline's gate drops the
// photo. TakenAt is datetaken, a wall-clock time without a zone that Flickr
// does not convert: it is read as UTC, so it may be off by the
// photographer's UTC offset; when datetaken is missing or all zeros,
// dateupload (Unix seconds) is used. The caption is the title, then the
// description. Hashtags are the space-separated tags without machine tags
// (namespace:predicate=value). The avatar is the owner's buddy icon
// (iconfarm/iconserver), the media URL url_o or else the
// farm/server/id_secret photo URL; both are built only from ids that are
// plain letters and digits. media "video" makes a video, anything else a
// photo. views → Views, count_faves → Likes, count_comments → Comments.
//
// Every post passes through the canonical codec (source/canonical), which
// checks and normalises it as it does posts sent to the API. Text is
// checked for valid UTF-8 on each photo's raw bytes, because encoding/json
// would silently replace invalid bytes.
package flickr
