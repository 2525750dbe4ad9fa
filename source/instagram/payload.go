package instagram

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// MaxPayloadBytes bounds one payload: an API page, a file of pages, a
// batch. The payload is read whole before anything is decoded, so an
// oversized one is refused (ETOOLARGE) before any element reaches the
// caller, and memory stays below about twice this figure. API pages are
// kilobytes; 256 MiB leaves room for a long dump of pages in one file.
const MaxPayloadBytes = 256 << 20

// bom is the UTF-8 byte order mark that some editors prepend.
const bom = "\xef\xbb\xbf"

// readPayload reads r whole, up to limit bytes.
func readPayload(r io.Reader, limit int) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(limit)+1))
	if err != nil {
		return nil, fmt.Errorf("read instagram payload: %w", err)
	}
	if len(data) > limit {
		return nil, tooLarge("payload is larger than the limit of %d bytes", limit)
	}
	return bytes.TrimPrefix(data, []byte(bom)), nil
}

// walker reads the structure of a payload held in memory with the
// standard library's streaming decoder, so that the elements of a list are
// handed out one by one: a file truncated in its middle still yields every
// element before the cut, then a malformed_json error naming the offset.
type walker struct {
	data []byte
	dec  *json.Decoder
	n    int // elements handed out so far, across pages
}

func newWalker(data []byte) *walker {
	return &walker{data: data, dec: json.NewDecoder(bytes.NewReader(data))}
}

// peek returns the first byte of the next value, or 0 at the end of the
// input. The decoder consumes ':' and ',' lazily, so they are skipped here.
func (w *walker) peek() byte {
	for i := int(w.dec.InputOffset()); i < len(w.data); i++ {
		switch c := w.data[i]; c {
		case ' ', '\t', '\r', '\n', ':', ',':
		default:
			return c
		}
	}
	return 0
}

// token reads a delimiter or an object key.
func (w *walker) token() (json.Token, error) {
	tok, err := w.dec.Token()
	if err != nil {
		return nil, w.malformed(err)
	}
	return tok, nil
}

// key reads the next member name of an object; ok is false at its end.
func (w *walker) key() (string, bool, error) {
	if !w.dec.More() {
		_, err := w.token() // the closing '}', or the error that stopped More
		return "", false, err
	}
	tok, err := w.token()
	if err != nil {
		return "", false, err
	}
	k, _ := tok.(string) // More and the decoder's state guarantee a key here
	return k, true, nil
}

// value reads the next value whole.
func (w *walker) value() (json.RawMessage, error) {
	var raw json.RawMessage
	if err := w.dec.Decode(&raw); err != nil {
		return nil, w.malformed(err)
	}
	return raw, nil
}

// skip reads past the next value.
func (w *walker) skip() error {
	if err := w.dec.Decode(&discard{}); err != nil {
		return w.malformed(err)
	}
	return nil
}

// builder of one element: raw is the element's bytes, m what encoding/json
// made of them and terr the first type mismatch it met (the syntax is
// known to be valid).
type buildFunc[T any] func(raw []byte, m *T, terr error) (*geopulse.Post, error)

// elements hands out every element of the array that comes next. Each is
// decoded straight from the stream into a T, one scan fewer than going
// through json.RawMessage; raw is then a slice of the payload, not a copy.
func elements[T any](w *walker, fn func(source.Item) error, build buildFunc[T]) error {
	if _, err := w.token(); err != nil {
		return err
	}
	for w.dec.More() {
		start := w.dec.InputOffset()
		var m T
		err := w.dec.Decode(&m)
		var te *json.UnmarshalTypeError
		if err != nil && !errors.As(err, &te) {
			return w.malformed(err)
		}
		// The separator before the element is consumed with it.
		raw := bytes.TrimLeft(w.data[start:w.dec.InputOffset()], " \t\r\n,")
		if err := w.emit(fn, raw, func(raw []byte) (*geopulse.Post, error) { return build(raw, &m, err) }); err != nil {
			return err
		}
	}
	_, err := w.token()
	return err
}

// fromRaw adapts build to an element already read whole.
func fromRaw[T any](build buildFunc[T]) func(raw []byte) (*geopulse.Post, error) {
	return func(raw []byte) (*geopulse.Post, error) {
		var m T
		err := json.Unmarshal(raw, &m)
		var se *json.SyntaxError
		if errors.As(err, &se) {
			// Not reached for elements the walker delimited; kept so a
			// caller with raw bytes of its own gets a rejection, not a
			// half-filled post.
			return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON at byte %d of the element: %s", se.Offset, se.Error())
		}
		return build(raw, &m, err)
	}
}

// emit decodes one element and gives its outcome to fn.
func (w *walker) emit(fn func(source.Item) error, raw []byte, one func(raw []byte) (*geopulse.Post, error)) error {
	it := source.Item{Index: w.n}
	w.n++
	if p, err := one(raw); err != nil {
		it.Err = err
	} else {
		it.Post = p
	}
	return fn(it)
}

// malformed turns a decoder error into the whole-payload rejection.
func (w *walker) malformed(err error) error {
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON at byte %d: %s", se.Offset, se.Error())
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF):
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON: the payload ends at byte %d in the middle of a value (truncated?)", len(w.data))
	}
	return geopulse.Reject(geopulse.ReasonMalformedJSON, "malformed JSON near byte %d: %v", w.dec.InputOffset(), err)
}

// checkElement applies the checks every element gets before it is
// decoded. UTF-8 is checked on the raw bytes because encoding/json would
// silently replace invalid bytes, even inside members nobody reads.
func checkElement(raw []byte) error {
	if !utf8.Valid(raw) {
		return geopulse.Reject(geopulse.ReasonInvalidUTF8, "element is not valid UTF-8 (byte %d of the element)", invalidUTF8At(raw))
	}
	if raw[0] != '{' {
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "element must be a JSON object, not %s", jsonKind(raw[0]))
	}
	return nil
}

func invalidUTF8At(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return len(b)
}

// jsonKind names the type of the JSON value starting with c.
func jsonKind(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	}
	return "a number"
}

// notFormat is the whole-payload error for JSON of another shape (a Flickr
// page fed to the v1 decoder): the payload parses, but what it must hold is
// missing.
func notFormat(format, want string, keys []string) error {
	if len(keys) == 0 {
		return geopulse.Reject(geopulse.ReasonMissingField, "not %s: expected %s", format, want)
	}
	return geopulse.Reject(geopulse.ReasonMissingField, "not %s: expected %s, found members %s", format, want, quoteKeys(keys))
}

// keyList collects the first few unexpected member names for notFormat.
func keyList(keys []string, k string) []string {
	if len(keys) < 6 {
		keys = append(keys, k)
	}
	return keys
}

func quoteKeys(keys []string) string {
	q := make([]string, len(keys))
	for i, k := range keys {
		if len(k) > 40 {
			k = "…" // a map keyed by ids or text: the first few say enough
		}
		q[i] = fmt.Sprintf("%q", k)
	}
	return strings.Join(q, ", ")
}

// apiError is the whole-payload error for a saved error response.
func apiError(format string, code int64, typ, msg string) error {
	if len(msg) > 300 || !utf8.ValidString(msg) {
		msg = "(message omitted)"
	}
	return geopulse.Reject(geopulse.ReasonUnsupported, "the payload is %s error response, not media: code %d %s: %s", format, code, typ, msg)
}
