// Package formats is the list of payload formats geopulse reads, in the
// order detection tries them, and the file handling around them:
// decompression (gzip, xz) by content, not by name, and format detection
// from a file's first bytes.
//
// It is the one place that knows every connector, so that the import
// command, the webhooks and the pollers name formats the same way
// (`--format flickr`). Detection order matters: a more specific format comes
// before a looser one (Instaloader's {"node": …, "instaloader": …} before
// Instagram Graph media, canonical posts before everything).
package formats
