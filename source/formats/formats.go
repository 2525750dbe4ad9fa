package formats

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/canonical"
	"github.com/geopulse/geopulse/source/csvfile"
	"github.com/geopulse/geopulse/source/flickr"
	"github.com/geopulse/geopulse/source/instagram"
	"github.com/geopulse/geopulse/source/instaloader"
	"github.com/geopulse/geopulse/source/mastodon"
	"github.com/geopulse/geopulse/source/x"
	"github.com/ulikunitz/xz"
)

// Options carry what some formats need beyond the payload.
type Options struct {
	// Venue attributes items that carry no location (Instagram Graph
	// media) to a venue; nil leaves them rejected with no_location.
	Venue *instagram.Venue
	// CSV maps canonical fields to CSV headers; nil: same names.
	CSV csvfile.Mapping
	// Source names the source of CSV rows without a source column.
	Source string
}

// Canonical is geopulse's own schema (docs/SCHEMA.md) as a Format. A file
// import takes any number of items.
var Canonical = source.Format{
	Name:  "canonical",
	Doc:   "geopulse canonical posts and compliance events (NDJSON or a JSON array)",
	Sniff: sniffCanonical,
	Decode: func(r io.Reader, fn func(source.Item) error) error {
		return canonical.Decode(r, canonical.Limits{MaxItems: 1 << 40}, fn)
	},
}

func sniffCanonical(head []byte) bool {
	return bytes.Contains(head, []byte(`"source_id"`)) &&
		(bytes.Contains(head, []byte(`"taken_at"`)) || bytes.Contains(head, []byte(`"event"`)))
}

// List returns every format, in detection order.
func List(opts Options) []source.Format {
	return []source.Format{
		Canonical,
		instaloader.Format,
		instagram.Graph(opts.Venue),
		instagram.V1,
		x.Format,
		flickr.Format,
		mastodon.Format,
		csvfile.Format(opts.CSV, opts.Source),
	}
}

// Names lists the format names, for help texts.
func Names() []string {
	var names []string
	for _, f := range List(Options{}) {
		names = append(names, f.Name)
	}
	return names
}

// Lookup returns the format called name.
func Lookup(name string, opts Options) (source.Format, error) {
	for _, f := range List(opts) {
		if f.Name == name {
			return f, nil
		}
	}
	return source.Format{}, geopulse.Errorf(geopulse.EINVALID, "Unknown format %q; known: %s.", name, strings.Join(Names(), ", "))
}

// Detect returns the first format whose Sniff accepts head.
func Detect(head []byte, opts Options) (source.Format, error) {
	for _, f := range List(opts) {
		if f.Sniff != nil && f.Sniff(head) {
			return f, nil
		}
	}
	return source.Format{}, geopulse.Errorf(geopulse.EINVALID,
		"Cannot tell the format from the first %d bytes; give --format (one of %s).", len(head), strings.Join(Names(), ", "))
}

// HeadBytes is how much of a (decompressed) file Detect looks at.
const HeadBytes = 64 << 10

// Magic numbers of the compressions a file may come in.
var (
	gzipMagic = []byte{0x1f, 0x8b}
	xzMagic   = []byte{0xfd, '7', 'z', 'X', 'Z', 0x00}
)

// Decompress returns r decompressed when it starts like a gzip or xz
// stream (whatever the file is called), else r itself, buffered. The
// result is positioned at the start of the content.
func Decompress(r io.Reader) (*bufio.Reader, string, error) {
	br := bufio.NewReaderSize(r, 256<<10)
	magic, _ := br.Peek(len(xzMagic))
	switch {
	case bytes.HasPrefix(magic, gzipMagic):
		zr, err := gzip.NewReader(br)
		if err != nil {
			return nil, "", geopulse.Errorf(geopulse.EINVALID, "Not a readable gzip file: %v.", err)
		}
		zr.Multistream(true)
		return bufio.NewReaderSize(zr, 256<<10), "gzip", nil
	case bytes.HasPrefix(magic, xzMagic):
		zr, err := xz.NewReader(br)
		if err != nil {
			return nil, "", geopulse.Errorf(geopulse.EINVALID, "Not a readable xz file: %v.", err)
		}
		return bufio.NewReaderSize(zr, 256<<10), "xz", nil
	}
	return br, "", nil
}

// Head returns up to HeadBytes of br without consuming them.
func Head(br *bufio.Reader) ([]byte, error) {
	head, err := br.Peek(HeadBytes)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return head, fmt.Errorf("read: %w", err)
	}
	return head, nil
}
