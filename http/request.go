package http

import (
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
)

// body returns the request body, bounded by MaxBodyBytes and decompressed
// when it is sent with Content-Encoding: gzip. The bound applies to the
// bytes sent and again to the decompressed stream, so a small gzip bomb is
// as harmless as a large body.
func (s *Server) body(w http.ResponseWriter, r *http.Request) (io.Reader, error) {
	limit := s.maxBodyBytes()
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	body := clientBody{http.MaxBytesReader(w, r.Body, limit)}
	switch enc := strings.ToLower(strings.TrimSpace(r.Header.Get("Content-Encoding"))); enc {
	case "", "identity":
		return body, nil
	case "gzip", "x-gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return nil, gzipError(err)
		}
		return &limitReader{r: gzipReader{zr}, n: limit, limit: limit}, nil
	default:
		return nil, paramError("content_encoding", "Content-Encoding %q is not supported; send gzip or no encoding.", enc)
	}
}

// clientBody reports the read errors of a request body that are the
// client's doing (a connection that ends before the announced length, a
// body too slow for the server's ReadTimeout) as a client error: answered
// 500 they would count, and be logged, as failures of the server, and their
// text names the server's address. *http.MaxBytesError passes through (413).
type clientBody struct{ r io.Reader }

func (b clientBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	var mbe *http.MaxBytesError
	if err != nil && err != io.EOF && !errors.As(err, &mbe) {
		err = paramError("body", "The request body could not be read whole: the connection ended early or the body came too slowly.")
	}
	return n, err
}

// gzipReader reports corrupt compressed data as a client error.
type gzipReader struct{ zr *gzip.Reader }

func (g gzipReader) Read(p []byte) (int, error) {
	n, err := g.zr.Read(p)
	if err != nil && err != io.EOF {
		err = gzipError(err)
	}
	return n, err
}

func gzipError(err error) error {
	var (
		mbe  *http.MaxBytesError
		gerr *geopulse.Error
	)
	if errors.As(err, &mbe) || errors.As(err, &gerr) {
		return err
	}
	return paramError("content_encoding", "The gzip body is corrupt: %v.", err)
}

// limitReader fails with *http.MaxBytesError once more than limit bytes
// have been read, like http.MaxBytesReader but for a decompressed stream.
type limitReader struct {
	r        io.Reader
	n, limit int64 // n: bytes still allowed
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n < 0 {
		return 0, &http.MaxBytesError{Limit: l.limit}
	}
	if int64(len(p)) > l.n+1 {
		p = p[:l.n+1] // one byte more tells "exactly at the limit" from "over it"
	}
	n, err := l.r.Read(p)
	if int64(n) <= l.n {
		l.n -= int64(n)
		return n, err
	}
	n = int(l.n)
	l.n = -1
	return n, &http.MaxBytesError{Limit: l.limit}
}

// checkContentType rejects a body whose media type is not one of want; an
// absent Content-Type is accepted, since curl users often forget it.
func checkContentType(r *http.Request, want ...string) error {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err == nil {
		for _, w := range want {
			if mt == w {
				return nil
			}
		}
	}
	return paramError("content_type", "Content-Type %q is not supported here; send %s.", ct, strings.Join(want, " or "))
}

// decodeJSON decodes one JSON value from body into v, rejecting unknown
// fields (a misspelt field silently ignored would change the meaning of a
// request) and trailing data.
func decodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return jsonError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		if err != nil {
			return jsonError(err)
		}
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "The body must hold exactly one JSON value.")
	}
	return nil
}

// jsonError turns an encoding/json error into a client error that says
// what is wrong; errors of the body reader (too large, bad gzip) pass through.
func jsonError(err error) error {
	var (
		mbe  *http.MaxBytesError
		gerr *geopulse.Error
		serr *json.SyntaxError
		terr *json.UnmarshalTypeError
	)
	switch {
	case errors.As(err, &mbe), errors.As(err, &gerr):
		return err
	case errors.Is(err, io.EOF):
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "The body is empty; a JSON value is required.")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "The JSON body ends too early.")
	case errors.As(err, &serr):
		return geopulse.Reject(geopulse.ReasonMalformedJSON, "The body is not valid JSON at byte %d: %v.", serr.Offset, serr)
	case errors.As(err, &terr):
		field := terr.Field
		if field == "" {
			field = "the body"
		}
		return geopulse.Reject(geopulse.ReasonInvalidField, "Field %s must be %s, not %s.", field, jsonTypeName(terr.Type.String()), terr.Value)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return geopulse.Reject(geopulse.ReasonInvalidField, "Unknown field %s.", strings.TrimPrefix(err.Error(), "json: unknown field "))
	}
	return geopulse.Reject(geopulse.ReasonMalformedJSON, "The body could not be decoded: %v.", err)
}

// jsonTypeName names a Go type the way a JSON client thinks of it.
func jsonTypeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"), strings.HasPrefix(goType, "["):
		return "an array"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "a boolean"
	}
	return "an object"
}

// paramError is the 400 for a bad request parameter; its reason names the
// parameter ("invalid_from", "invalid_bbox", …) so clients can point at it.
func paramError(param, format string, args ...any) error {
	return &geopulse.Error{Code: geopulse.EINVALID, Reason: "invalid_" + param, Message: fmt.Sprintf(format, args...)}
}

// list returns the values of a repeatable, comma-separated parameter:
// ?kind=photo&kind=story and ?kind=photo,story are the same.
func list(vals []string) []string {
	var out []string
	for _, v := range vals {
		for _, s := range strings.Split(v, ",") {
			if s = strings.TrimSpace(s); s != "" {
				out = append(out, s)
			}
		}
	}
	return out
}

// parseIDs parses positive int64 ids.
func parseIDs(param string, vals []string) ([]int64, error) {
	var ids []int64
	for _, v := range vals {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return nil, paramError(param, "%s must hold positive integer ids, not %q.", param, v)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// pathID parses the {id} wildcard of the route.
func pathID(r *http.Request) (int64, error) {
	v := r.PathValue("id")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return 0, paramError("id", "The id in the path must be a positive integer, not %q.", v)
	}
	return id, nil
}

// parseTime parses an RFC 3339 time; "" is the zero time (no bound).
func parseTime(param, v string) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return time.Time{}, paramError(param, "%s must be an RFC 3339 time such as 2025-06-01T00:00:00Z, not %q.", param, v)
	}
	return t.UTC(), nil
}

// parseRange parses from and to and checks their order.
func parseRange(from, to string) (time.Time, time.Time, error) {
	f, err := parseTime("from", from)
	if err != nil {
		return f, f, err
	}
	t, err := parseTime("to", to)
	if err != nil {
		return f, t, err
	}
	if !f.IsZero() && !t.IsZero() && !f.Before(t) {
		return f, t, paramError("to", "to must be after from.")
	}
	return f, t, nil
}

// parseKinds parses post kinds.
func parseKinds(vals []string) ([]geopulse.Kind, error) {
	var kinds []geopulse.Kind
	for _, v := range vals {
		k := geopulse.Kind(strings.ToLower(v))
		if !k.Valid() {
			return nil, paramError("kind", "Unknown kind %q; kinds are %s.", v, kindNames())
		}
		kinds = append(kinds, k)
	}
	return kinds, nil
}

func kindNames() string {
	names := make([]string, len(geopulse.Kinds))
	for i, k := range geopulse.Kinds {
		names[i] = string(k)
	}
	return strings.Join(names, ", ")
}

// parseInt parses an integer parameter within [lo, hi]; "" gives def.
func parseInt(param, v string, def, lo, hi int64) (int64, error) {
	if v == "" {
		return def, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < lo || n > hi {
		return 0, paramError(param, "%s must be an integer from %d to %d, not %q.", param, lo, hi, v)
	}
	return n, nil
}

// parseFloats parses a comma-separated list of exactly n numbers.
func parseFloats(param, v string, n int) ([]float64, error) {
	parts := strings.Split(v, ",")
	if len(parts) != n {
		return nil, paramError(param, "%s must be %d comma-separated numbers.", param, n)
	}
	out := make([]float64, n)
	for i, p := range parts {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, paramError(param, "%s must be %d comma-separated numbers; %q is not a number.", param, n, p)
		}
		out[i] = f
	}
	return out, nil
}

// parseBool parses a flag parameter: "", "0", "false" are false; "1",
// "true" are true.
func parseBool(param, v string) (bool, error) {
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, paramError(param, "%s must be 1 or 0, not %q.", param, v)
	}
	return b, nil
}
