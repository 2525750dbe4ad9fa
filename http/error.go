package http

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/geopulse/geopulse"
)

// retryAfterSeconds is the Retry-After of a 429: the stream's backlog
// drains at tens of thousands of posts a second, so a short pause is enough.
const retryAfterSeconds = "1"

// statusCodes maps geopulse error codes to HTTP statuses.
var statusCodes = map[string]int{
	geopulse.EINVALID:      http.StatusBadRequest,
	geopulse.EUNAUTHORIZED: http.StatusUnauthorized,
	geopulse.EFORBIDDEN:    http.StatusForbidden,
	geopulse.ENOTFOUND:     http.StatusNotFound,
	geopulse.ECONFLICT:     http.StatusConflict,
	geopulse.ETOOLARGE:     http.StatusRequestEntityTooLarge,
	geopulse.ETOOMANY:      http.StatusTooManyRequests,
	geopulse.EINTERNAL:     http.StatusInternalServerError,
}

// ErrorStatusCode returns the HTTP status for a geopulse error code; unknown
// codes are internal errors.
func ErrorStatusCode(code string) int {
	if s, ok := statusCodes[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorResponse is the body of every error answer:
// {"error":{"code":"invalid","reason":"invalid_from","message":"…"}}.
type errorResponse struct {
	Error errorBody `json:"error"`
}

type errorBody struct {
	Code    string `json:"code"`
	Reason  string `json:"reason,omitempty"`
	Message string `json:"message"`
}

// Error answers err. It is the one place that turns errors into responses:
// the code picks the status, internal errors are logged with their detail
// and answered with a generic message.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, err error) {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = &geopulse.Error{Code: geopulse.ETOOLARGE, Reason: geopulse.ReasonTooLarge,
			Message: "The request body is larger than the limit of " + byteSize(mbe.Limit) + "."}
	}
	code := geopulse.ErrorCode(err)
	switch {
	case code == geopulse.EINTERNAL && r.Context().Err() != nil:
		// The client went away; nobody will read the answer.
		s.logger.InfoContext(r.Context(), "request canceled", slog.String(keyPath, r.URL.Path), slog.Any(keyError, err))
	case code == geopulse.EINTERNAL:
		s.logger.ErrorContext(r.Context(), "request failed",
			slog.String(keyMethod, r.Method), slog.String(keyPath, r.URL.Path), slog.Any(keyError, err))
	case code == geopulse.EUNAUTHORIZED:
		w.Header().Set("WWW-Authenticate", `Bearer realm="geopulse"`)
	case code == geopulse.ETOOMANY:
		// Intake is full or behind: tell well-behaved clients when to retry
		// instead of letting them hammer a server that is catching up.
		w.Header().Set("Retry-After", retryAfterSeconds)
	}
	s.writeJSON(w, r, ErrorStatusCode(code), errorResponse{Error: errorBody{
		Code:    code,
		Reason:  geopulse.ErrorReason(err),
		Message: geopulse.ErrorMessage(err),
	}})
}

// writeJSON answers v as JSON. It marshals before writing the header, so
// that a value that cannot be encoded still gets a clean 500.
func (s *Server) writeJSON(w http.ResponseWriter, r *http.Request, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		s.logger.ErrorContext(r.Context(), "encode response", slog.String(keyPath, r.URL.Path), slog.Any(keyError, err))
		status = http.StatusInternalServerError
		b, _ = json.Marshal(errorResponse{Error: errorBody{Code: geopulse.EINTERNAL, Message: geopulse.ErrorMessage(err)}})
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(status)
	w.Write(append(b, '\n')) // an error means the client is gone
}

// byteSize formats n for messages: "32 MiB", "512 KiB", "100 bytes".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
