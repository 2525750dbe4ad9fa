// Package csvfile imports posts from CSV files an operator is entitled to
// (exports of a platform's own tools, licensed feeds), with a mapping from
// geopulse's canonical fields to the file's column headers.
//
// # Mapping
//
// A Mapping maps a canonical field to a header: "lat=latitude,lon=lng,
// source_id=id" (ParseMapping). A field left out is looked for under its
// own name, so a file whose headers are the canonical names needs no
// mapping. Headers match without regard to case or surrounding spaces. The
// fields, with what a cell may hold:
//
//	source, source_id, kind          text; kind photo|video|story|reel|text (empty: photo)
//	taken_at, expires_at             RFC 3339, or Unix seconds
//	lat, lon                         decimal degrees
//	accuracy_m                       metres ≥ 0
//	location_from                    point|bbox|centroid|venue (empty: point)
//	place_name, caption, language    text
//	hashtags, mentions               separated by spaces or commas, '#'/'@' optional
//	media                            absolute http(s) URLs separated by spaces
//	likes, comments, views           integers ≥ 0 (empty: 0)
//	author.source_id, author.handle, author.display_name, author.avatar_url
//	author.followers, author.following, author.posts    integers ≥ 0
//	author.verified, author.private  true/false, yes/no, 1/0 (empty: false)
//
// Required columns are source_id, taken_at, lat, lon and author.source_id,
// and source unless Format is given a default source (a cell left empty
// takes the default too). A required column that is missing, or a column
// the mapping names explicitly that is not in the header, fails the whole
// file with an EINVALID *geopulse.Error (ReasonMissingField) naming it, as
// does a used header that appears twice (ReasonInvalidField).
//
// # Rows
//
// The file is RFC 4180 CSV, comma-separated, with a header row; a leading
// byte order mark is dropped, quoted fields may hold commas, quotes ("") and
// line breaks, and blank lines are skipped. The file is streamed: memory is
// bounded by MaxRowBytes, whatever its size. Each data row is one item:
// Item.Index counts data rows from 0, and messages say "row N (line L)" with
// N counted from 1 (the first row after the header) and L the line of the
// file where the row starts. A row with a quoting error, a different number
// of fields than the header, invalid UTF-8, or a bad value is an item with
// its reason; the rest go on. Empty coordinates and 0,0 (what spreadsheets
// write for "unknown") give no_location. A row longer than MaxRowBytes — in
// practice an unclosed quote that swallows the rest of the file — stops the
// import with ETOOLARGE, because where the next row starts is then unknown.
//
// Every post passes through the canonical codec (source/canonical), which
// checks and normalises it exactly as posts sent to the API, so a CSV row
// and an API item with the same values become the same post.
package csvfile
