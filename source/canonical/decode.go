package canonical

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// Item is one decoded element of a body (source.Item). Post is set when the
// item parsed as a post, Event when it is a compliance event (it has an
// "event" member); otherwise Err is a *geopulse.Error with Code EINVALID or
// ETOOLARGE and a Reason (geopulse.Reason*) saying why. Index is the 0-based
// position of the item in the input (blank NDJSON lines do not count).
type Item = source.Item

// readBufSize is the bufio buffer of the NDJSON reader. Lines longer than it
// are assembled in a separate buffer, up to MaxItemBytes; beyond that they are
// skipped without being held in memory.
const readBufSize = 64 << 10

// Decode reads a body of posts, either NDJSON (one object per line; blank
// lines skipped) or a single JSON array of objects (when the first byte that
// is not white space, after an optional UTF-8 byte order mark, is '['), and
// calls fn for every item in order.
//
// A bad item never stops the decoding of the rest: it reaches fn as an Item
// with Err set. NDJSON is streamed, so memory stays bounded by MaxItemBytes
// whatever the body's size. A JSON array is read whole and its syntax checked
// before any item is decoded, because after a syntax error its items cannot
// be delimited: Decode then returns an EINVALID *geopulse.Error with Reason
// geopulse.ReasonMalformedJSON naming the byte offset, and calls fn for
// nothing.
//
// Decode returns the first error fn returns (unwrapped) and stops; a read
// error of r; or an ETOOLARGE *geopulse.Error when the body holds more than
// MaxItems items — for an array before fn is called, for NDJSON after fn has
// seen the first MaxItems items.
func Decode(r io.Reader, lim Limits, fn func(Item) error) error {
	lim = lim.orDefault()
	br := bufio.NewReaderSize(r, readBufSize)
	off := 0
	if b, err := br.Peek(len(bom)); err == nil && string(b) == bom {
		br.Discard(len(bom))
		off += len(bom)
	}
	for {
		b, err := br.Peek(1)
		if errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("read posts: %w", err)
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			br.Discard(1)
			off++
			continue
		case '[':
			return decodeArray(br, off, lim, fn)
		}
		return decodeLines(br, lim, fn)
	}
}

// bom is the UTF-8 byte order mark that some spreadsheet exports prepend.
const bom = "\xef\xbb\xbf"

// DecodePost decodes a single canonical post object (surrounding white space
// allowed). The error is a *geopulse.Error as in Item.Err; a compliance event
// is an error here (EINVALID, ReasonUnsupported).
func DecodePost(data []byte, lim Limits) (*geopulse.Post, error) {
	p, ev, err := DecodeMessage(data, lim)
	if err == nil && ev != nil {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "a %s compliance event where a post was expected", ev.Kind)
	}
	return p, err
}

// DecodeMessage decodes a single canonical item: a post or a compliance
// event. Exactly one of the results is non-nil.
func DecodeMessage(data []byte, lim Limits) (*geopulse.Post, *geopulse.ComplianceEvent, error) {
	p, ev, err := decodeItem(data, lim.orDefault())
	if err != nil {
		return nil, nil, err
	}
	return p, ev, nil
}

func tooManyItems(max int) *geopulse.Error {
	return tooLarge("more than %d items in one body; split it", max)
}

func decodeLines(br *bufio.Reader, lim Limits, fn func(Item) error) error {
	var long []byte // reused for lines longer than the read buffer
	index := 0
	for {
		line, tooLong, rerr := readLine(br, lim.MaxItemBytes, &long)
		if rerr != nil && !errors.Is(rerr, io.EOF) {
			return fmt.Errorf("read posts: %w", rerr)
		}
		if tooLong || !blank(line) {
			if index == lim.MaxItems {
				return tooManyItems(lim.MaxItems)
			}
			it := Item{Index: index}
			var err *geopulse.Error
			if tooLong {
				err = tooLarge("item is more than the limit of %d bytes", lim.MaxItemBytes)
			} else {
				it.Post, it.Event, err = decodeItem(line, lim)
			}
			if err != nil {
				it.Err = err
			}
			index++
			if err := fn(it); err != nil {
				return err
			}
		}
		if rerr != nil {
			return nil // io.EOF
		}
	}
}

// readLine returns the next line without its terminator ("\n" or "\r\n").
// The line is valid until the next call. A line longer than max bytes is
// consumed but not kept: tooLong is true and line is nil.
func readLine(br *bufio.Reader, max int, long *[]byte) (line []byte, tooLong bool, err error) {
	frag, err := br.ReadSlice('\n')
	if !errors.Is(err, bufio.ErrBufferFull) {
		return trimEOL(frag), false, err
	}
	// max+2 leaves room for the "\r\n" that trimEOL removes.
	buf := append((*long)[:0], frag...)
	for errors.Is(err, bufio.ErrBufferFull) {
		frag, err = br.ReadSlice('\n')
		if !tooLong && len(buf)+len(frag) <= max+2 {
			buf = append(buf, frag...)
		} else {
			tooLong = true
		}
	}
	*long = buf[:0]
	if tooLong {
		return nil, true, err
	}
	return trimEOL(buf), false, err
}

func trimEOL(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte{'\n'})
	return bytes.TrimSuffix(b, []byte{'\r'})
}

func blank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\t' && c != '\r' {
			return false
		}
	}
	return true
}

// decodeArray reads a JSON array body whose '[' is the next byte of br; off
// is the number of bytes of the body already consumed, so that offsets in
// messages count from the start of the body.
func decodeArray(br *bufio.Reader, off int, lim Limits, fn func(Item) error) error {
	// The whole body is needed to check its syntax before the first item
	// is delivered; bound it by what MaxItems items could legitimately take.
	maxBody := int64(math.MaxInt64 - 1)
	if per := int64(lim.MaxItemBytes) + 16; int64(lim.MaxItems) < maxBody/per {
		maxBody = int64(lim.MaxItems) * per
	}
	body, err := io.ReadAll(io.LimitReader(br, maxBody+1))
	if err != nil {
		return fmt.Errorf("read posts: %w", err)
	}
	if int64(len(body)) > maxBody {
		return tooLarge("JSON array body is larger than %d bytes; use NDJSON for big imports", maxBody)
	}
	type span struct{ start, end int }
	var spans []span
	sc := scanner{s: string(body), depth: -1} // items nest as deep as in NDJSON
	malformedAt := func(err error) error {
		se := err.(*syntaxError)
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON array at byte %d: %s; no item was read", off+se.off, se.msg)
	}
	if err := sc.enter(); err != nil {
		return malformedAt(err)
	}
	for first := true; ; first = false {
		more, err := sc.element(first)
		if err != nil {
			return malformedAt(err)
		}
		if !more {
			break
		}
		start := sc.pos
		if err := sc.skip(); err != nil {
			return malformedAt(err)
		}
		spans = append(spans, span{start, sc.pos})
	}
	sc.ws()
	if sc.pos < len(sc.s) {
		return malformedAt(sc.fail("unexpected data after the array"))
	}
	if len(spans) > lim.MaxItems {
		return tooManyItems(lim.MaxItems)
	}
	for i, sp := range spans {
		it := Item{Index: i}
		// Each item gets its own copy (inside decodeItem) rather than a
		// substring of the body, so that a post kept for long does not
		// pin the whole body in memory.
		p, ev, err := decodeItem(body[sp.start:sp.end], lim)
		if err != nil {
			it.Err = err
		} else {
			it.Post, it.Event = p, ev
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// ConnectorLimits are the limits connectors normalise with: the canonical
// defaults, except that a re-encoded item may be as large as the caption
// and list limits allow.
var ConnectorLimits = Limits{MaxItemBytes: 1 << 20}

// Normalize passes a post a connector built through the codec — encode,
// then decode with the schema's checks — so that every connector applies
// exactly the canonical rules, normalisation and rejection reasons. buf is
// scratch space reused across calls; what names the item in the message of
// a rejection ("tweet 123: location.lat …").
func Normalize(p *geopulse.Post, lim Limits, buf *[]byte, what string) (*geopulse.Post, *geopulse.Error) {
	*buf = AppendJSON((*buf)[:0], p)
	q, _, err := decodeItem(*buf, lim.orDefault())
	if err != nil {
		return nil, &geopulse.Error{Code: err.Code, Reason: err.Reason, Message: what + ": " + err.Message}
	}
	return q, nil
}
