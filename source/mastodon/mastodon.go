package mastodon

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// Source is the source name of every post this package emits.
const Source = "mastodon"

// Size limits. A status is a few KiB (content up to the instance's
// character limit, an account card, up to four attachments); an API page
// holds at most 40.
const (
	// MaxStatusBytes bounds one NDJSON line or a single status object.
	MaxStatusBytes = 1 << 20
	// MaxArrayBytes bounds a JSON array body, which is read whole.
	MaxArrayBytes = 64 << 20
)

// Format is the Mastodon connector's payload format.
var Format = source.Format{
	Name:   "mastodon",
	Doc:    "Mastodon statuses: a JSON array of Status entities, or NDJSON",
	Sniff:  sniff,
	Decode: Decode,
}

// sniff looks for members every Status has near its start.
func sniff(head []byte) bool {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte(source.BOM)), " \t\r\n[")
	return len(head) > 0 && head[0] == '{' && bytes.Contains(head, []byte(`"uri"`)) &&
		(bytes.Contains(head, []byte(`"visibility"`)) || bytes.Contains(head, []byte(`"spoiler_text"`)))
}

// Decode reads Mastodon statuses from r (a JSON array, NDJSON, or one
// object) and calls fn for every status in order. It returns the first
// error fn returns, a read error, or a *geopulse.Error: EINVALID
// (ReasonMalformedJSON) when the body as a whole cannot be read, ETOOLARGE
// when an array or a single object is over its limit.
func Decode(r io.Reader, fn func(source.Item) error) error {
	d := decoder{fn: fn}
	lr := source.NewLineReader(r, MaxStatusBytes)
	if err := lr.SkipSpace(); errors.Is(err, io.EOF) {
		return nil
	} else if err != nil {
		return fmt.Errorf("read mastodon statuses: %w", err)
	}
	off := lr.Off
	if b, _ := lr.BR.Peek(1); b[0] == '[' {
		return d.array(lr.BR, off)
	}
	line, tooLong, err := lr.Next()
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read mastodon statuses: %w", err)
	}
	if !tooLong && !json.Valid(line) {
		// One pretty-printed status.
		body := bytes.Clone(line)
		if err == nil {
			rest, rerr := io.ReadAll(io.LimitReader(lr.BR, int64(MaxStatusBytes-len(body)+1)))
			if rerr != nil {
				return fmt.Errorf("read mastodon statuses: %w", rerr)
			}
			body = append(body, rest...)
		}
		if len(body) > MaxStatusBytes {
			return tooLarge("the status is larger than %d bytes", MaxStatusBytes)
		}
		if e := source.CheckJSON(body, off); e != nil {
			return e
		}
		return d.emit(d.status(body, ""))
	}
	for {
		if tooLong {
			if err := d.emit(nil, tooLarge("line %d is larger than %d bytes", lr.LineNo, MaxStatusBytes)); err != nil {
				return err
			}
		} else if !source.IsBlank(line) {
			if err := d.emit(d.status(line, fmt.Sprintf("line %d", lr.LineNo))); err != nil {
				return err
			}
		}
		if err != nil {
			return nil // io.EOF
		}
		line, tooLong, err = lr.Next()
		if err != nil && !errors.Is(err, io.EOF) {
			return fmt.Errorf("read mastodon statuses: %w", err)
		}
	}
}

// array decodes a JSON array body whose '[' is next in br; off bytes of
// the input came before it.
func (d *decoder) array(r io.Reader, off int) error {
	body, err := io.ReadAll(io.LimitReader(r, MaxArrayBytes+1))
	if err != nil {
		return fmt.Errorf("read mastodon statuses: %w", err)
	}
	if len(body) > MaxArrayBytes {
		return tooLarge("the array is larger than %d bytes; send NDJSON, one status per line", MaxArrayBytes)
	}
	if e := source.CheckJSON(body, off); e != nil {
		return e
	}
	var raws []json.RawMessage
	if err := json.Unmarshal(body, &raws); err != nil {
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "expected an array of statuses")
	}
	for i, raw := range raws {
		if err := d.emit(d.status(raw, fmt.Sprintf("status [%d]", i))); err != nil {
			return err
		}
	}
	return nil
}

// decoder carries the running index and the canonical codec's buffer.
type decoder struct {
	fn    func(source.Item) error
	index int
	buf   []byte
}

// emit hands one element's outcome to fn. e is typed so that a nil
// *geopulse.Error never becomes a non-nil error interface.
func (d *decoder) emit(p *geopulse.Post, e *geopulse.Error) error {
	it := source.Item{Index: d.index}
	if e != nil {
		it.Err = e
	} else {
		it.Post = p
	}
	d.index++
	return d.fn(it)
}

func tooLarge(format string, args ...any) *geopulse.Error {
	return &geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge, Message: fmt.Sprintf(format, args...)}
}

func prefix(what string, e *geopulse.Error) *geopulse.Error {
	return &geopulse.Error{Code: e.Code, Reason: e.Reason, Message: what + ": " + e.Message}
}
