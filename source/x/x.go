package x

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// Source is the source name of every post and event this package emits.
const Source = "x"

// MaxPageBytes bounds one page document or one NDJSON line. A full search
// page (100 tweets with their users, places and media) is well under 1 MiB.
const MaxPageBytes = 8 << 20

// Format is the X connector's payload format for `geopulse import` and the
// pollers: search pages and compliance events, as one document or NDJSON.
var Format = source.Format{
	Name:   "x",
	Doc:    "X API v2 search pages (with author, place and media expansions) and compliance events, JSON or NDJSON",
	Sniff:  sniff,
	Decode: Decode,
}

// sniff recognises a tweet (author_id, edit_history_tweet_ids) or a
// compliance event (event_at, or a batch result's redacted_at) near the
// start of an object; "data" alone is too common to mean X.
func sniff(head []byte) bool {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte(source.BOM)), " \t\r\n")
	if len(head) == 0 || head[0] != '{' {
		return false
	}
	for _, key := range []string{`"author_id"`, `"edit_history_tweet_ids"`, `"event_at"`, `"redacted_at"`} {
		if bytes.Contains(head, []byte(key)) {
			return true
		}
	}
	return false
}

// Decode reads X pages and compliance events from r and calls fn for every
// element in order (see the package doc for the input forms and Index). It
// returns the first error fn returns, a read error, or a *geopulse.Error:
// EINVALID (ReasonMalformedJSON, or ReasonUnsupported for an X error
// response) when the document as a whole cannot be read, ETOOLARGE when it
// is larger than MaxPageBytes.
func Decode(r io.Reader, fn func(source.Item) error) error {
	d := decoder{fn: fn}
	lr := source.NewLineReader(r, MaxPageBytes)
	if err := lr.SkipSpace(); errors.Is(err, io.EOF) {
		return nil // empty input: nothing to do
	} else if err != nil {
		return fmt.Errorf("read x payload: %w", err)
	}
	off := lr.Off
	line, tooLong, err := lr.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read x payload: %w", err)
	}
	if !tooLong && !json.Valid(line) {
		// Not a complete value on its first line: one pretty-printed
		// document.
		body := bytes.Clone(line)
		if err == nil {
			rest, rerr := io.ReadAll(io.LimitReader(lr.BR, int64(MaxPageBytes-len(body)+1)))
			if rerr != nil {
				return fmt.Errorf("read x payload: %w", rerr)
			}
			body = append(body, rest...)
		}
		if len(body) > MaxPageBytes {
			return tooLarge("the X payload is larger than %d bytes; send NDJSON, one page per line", MaxPageBytes)
		}
		if e := source.CheckJSON(body, off); e != nil {
			return e
		}
		return d.whole(body)
	}
	// A complete value on the first line: NDJSON, unless it is the only
	// line, which is a compact document and is judged as a whole.
	first, firstNo := bytes.Clone(line), lr.LineNo
	if err == nil {
		err = lr.SkipSpace()
	}
	if errors.Is(err, io.EOF) {
		if tooLong {
			return tooLarge("the X payload is larger than %d bytes", MaxPageBytes)
		}
		return d.whole(first)
	} else if err != nil {
		return fmt.Errorf("read x payload: %w", err)
	}
	if err := d.line(first, tooLong, firstNo); err != nil {
		return err
	}
	for {
		line, tooLong, err := lr.Next()
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read x payload: %w", err)
		}
		if ferr := d.line(line, tooLong, lr.LineNo); ferr != nil {
			return ferr
		}
		if err != nil {
			return nil // io.EOF
		}
	}
}

// whole decodes a payload that is one JSON document: its shape problems
// are the payload's error.
func (d *decoder) whole(body []byte) error {
	if e, err := d.value(body); e != nil {
		return e
	} else if err != nil {
		return err
	}
	return nil
}

// line decodes one NDJSON line, number n: its problems are its item.
func (d *decoder) line(line []byte, tooLong bool, n int) error {
	if tooLong {
		return d.emit(nil, nil, tooLarge("line %d is larger than %d bytes", n, MaxPageBytes))
	}
	if source.IsBlank(line) {
		return nil
	}
	e := source.CheckJSON(line, 0)
	if e == nil {
		var err error
		if e, err = d.value(line); err != nil {
			return err
		}
	}
	if e != nil {
		e.Message = fmt.Sprintf("line %d: %s", n, e.Message)
		return d.emit(nil, nil, e)
	}
	return nil
}

func tooLarge(format string, args ...any) *geopulse.Error {
	return &geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge, Message: fmt.Sprintf(format, args...)}
}

// decoder carries the running index and the canonical codec's buffer.
type decoder struct {
	fn    func(source.Item) error
	index int
	buf   []byte
}

// emit hands one element's outcome to fn. e is typed so that a nil
// *geopulse.Error never becomes a non-nil error interface.
func (d *decoder) emit(p *geopulse.Post, ev *geopulse.ComplianceEvent, e *geopulse.Error) error {
	it := source.Item{Index: d.index}
	switch {
	case e != nil:
		it.Err = e
	case ev != nil:
		it.Event = ev
	default:
		it.Post = p
	}
	d.index++
	return d.fn(it)
}
