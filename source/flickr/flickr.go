package flickr

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
)

// Source is the source name of every post this package emits.
const Source = "flickr"

// MaxPageBytes bounds one response. A page of 500 photos (Flickr's largest)
// with every extra is about 1 MiB.
const MaxPageBytes = 16 << 20

// Format is the Flickr connector's payload format: one photos.search
// response.
var Format = source.Format{
	Name:   "flickr",
	Doc:    "Flickr photos.search response (JSON, with geo and other extras)",
	Sniff:  sniff,
	Decode: Decode,
}

func sniff(head []byte) bool {
	head = bytes.TrimLeft(bytes.TrimPrefix(head, []byte(bom)), " \t\r\n")
	return len(head) > 0 && head[0] == '{' &&
		(bytes.Contains(head, []byte(`"photos"`)) || bytes.Contains(head, []byte(`"stat":"fail"`)))
}

const bom = "\xef\xbb\xbf"

// response is a photos.search response; each photo stays raw so that it is
// decoded, and fails, on its own.
type response struct {
	Stat    string `json:"stat"`
	Code    scalar `json:"code"`
	Message string `json:"message"`
	Photos  *struct {
		Page  scalar            `json:"page"`
		Pages scalar            `json:"pages"`
		Photo []json.RawMessage `json:"photo"`
	} `json:"photos"`
}

// readResponse checks and decodes a response body (byte order mark
// allowed); photos is nil when the body is blank.
func readResponse(body []byte) (*response, *geopulse.Error) {
	off := 0
	if bytes.HasPrefix(body, []byte(bom)) {
		body, off = body[len(bom):], len(bom)
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, nil
	}
	if e := source.CheckJSON(body, off); e != nil {
		return nil, e
	}
	var resp response
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "not a Flickr photos.search response: %s", typeError("response", err).Message)
	}
	if resp.Stat == "fail" {
		return nil, geopulse.Reject(geopulse.ReasonUnsupported, "Flickr answered stat=fail (code %s): %s", clip(resp.Code.s), clip(resp.Message))
	}
	if resp.Photos == nil {
		return nil, geopulse.Reject(geopulse.ReasonMalformedJSON, "not a Flickr photos.search response: no photos object")
	}
	return &resp, nil
}

// clip shortens text of the sender's that goes into a message.
func clip(s string) string {
	if len(s) > 200 {
		return strings.ToValidUTF8(s[:200], "") + "…"
	}
	return s
}

// Decode reads one photos.search response from r and calls fn for every
// photo in order. It returns the first error fn returns, a read error, or a
// *geopulse.Error: ETOOLARGE above MaxPageBytes; EINVALID with
// ReasonMalformedJSON when the body is not a photos.search response, with
// ReasonUnsupported when Flickr answered stat=fail.
func Decode(r io.Reader, fn func(source.Item) error) error {
	body, err := io.ReadAll(io.LimitReader(r, MaxPageBytes+1))
	if err != nil {
		return fmt.Errorf("read flickr response: %w", err)
	}
	if len(body) > MaxPageBytes {
		return &geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge,
			Message: fmt.Sprintf("the Flickr response is larger than %d bytes", MaxPageBytes)}
	}
	resp, e := readResponse(body)
	if e != nil {
		return e
	}
	if resp == nil {
		return nil
	}
	var buf []byte
	for i, raw := range resp.Photos.Photo {
		it := source.Item{Index: i}
		if p, e := decodePhoto(raw, &buf); e != nil {
			it.Err = e
		} else {
			it.Post = p
		}
		if err := fn(it); err != nil {
			return err
		}
	}
	return nil
}

// Pages returns photos.page and photos.pages of a response, for a poller
// to know whether to ask for the next page. The error is an EINVALID
// *geopulse.Error as Decode's.
func Pages(page []byte) (int, int, error) {
	resp, e := readResponse(page)
	if e != nil {
		return 0, 0, e
	}
	if resp == nil {
		return 0, 0, geopulse.Reject(geopulse.ReasonMalformedJSON, "empty Flickr response")
	}
	n, _, e1 := resp.Photos.Page.int("photos.page")
	total, _, e2 := resp.Photos.Pages.int("photos.pages")
	if e1 != nil {
		return 0, 0, e1
	} else if e2 != nil {
		return 0, 0, e2
	}
	return int(n), int(total), nil
}

// scalar is a member Flickr sends as a string or a number, interchangeably.
type scalar struct {
	s   string // the string's content or the number's literal
	set bool   // present, not null, not ""
	bad string // the JSON type when it is neither string, number nor null
}

func (v *scalar) UnmarshalJSON(b []byte) error {
	switch b[0] {
	case '"':
		if err := json.Unmarshal(b, &v.s); err != nil {
			return err
		}
		v.s = strings.TrimSpace(v.s)
		v.set = v.s != ""
	case 'n':
	case '{':
		v.bad = "an object"
	case '[':
		v.bad = "an array"
	case 't', 'f':
		v.bad = "a boolean"
	default:
		v.s, v.set = string(b), true
	}
	return nil
}

func (v scalar) str(field string) (string, *geopulse.Error) {
	if v.bad != "" {
		return "", geopulse.Reject(geopulse.ReasonInvalidField, "%s must be a string or a number, not %s", field, v.bad)
	}
	return v.s, nil
}

// float reads a number; ok is false when the member is absent.
func (v scalar) float(field string) (f float64, ok bool, e *geopulse.Error) {
	s, e := v.str(field)
	if e != nil || !v.set {
		return 0, false, e
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, false, geopulse.Reject(geopulse.ReasonInvalidField, "%s must be a number, not %q", field, clip(s))
	}
	return f, true, nil
}

// int reads an integer; ok is false when the member is absent.
func (v scalar) int(field string) (n int64, ok bool, e *geopulse.Error) {
	s, e := v.str(field)
	if e != nil || !v.set {
		return 0, false, e
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, false, geopulse.Reject(geopulse.ReasonInvalidField, "%s must be an integer, not %q", field, clip(s))
	}
	return n, true, nil
}
