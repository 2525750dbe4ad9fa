package http

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/geopulse/geopulse"
)

// DeadLetter is a message the stream's workers gave up on (see package
// nats): the post's raw body with the error that stopped it.
type DeadLetter struct {
	Seq        uint64 // the handle for redrive
	Reason     string // undecodable | store_failed
	Error      string
	Subject    string // the original subject
	StreamSeq  uint64 // the original sequence
	Deliveries uint64
	ReceivedAt time.Time
	DeadAt     time.Time
	Data       []byte
}

// DeadLetterService is the dead-letter queue as operators see it.
type DeadLetterService interface {
	// DeadLetters returns up to limit dead letters with a sequence above
	// after, oldest first.
	DeadLetters(ctx context.Context, after uint64, limit int) ([]*DeadLetter, error)
	// Redrive puts dead letters back into the stream; ENOTFOUND for an
	// unknown sequence (those before it are re-driven).
	Redrive(ctx context.Context, seqs []uint64) (int, error)
	// RedriveAll puts every dead letter back into the stream.
	RedriveAll(ctx context.Context) (int, error)
}

// adminPrefix starts every operator route. Those routes are authenticated
// by the admin token, never by a workspace key: they reach data of every
// workspace.
const adminPrefix = "/v1/admin/"

// authenticateAdmin requires "Authorization: Bearer <admin token>".
func (s *Server) authenticateAdmin(next http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if s.AdminToken == "" {
			s.Error(w, r, geopulse.Errorf(geopulse.EFORBIDDEN, "The admin API is disabled: configure admin_token (GEOPULSE_ADMIN_TOKEN)."))
			return
		}
		token, ok := bearerToken(r.Header.Get("Authorization"))
		if !ok {
			s.Error(w, r, geopulse.Errorf(geopulse.EUNAUTHORIZED, "Missing admin token: send the header Authorization: Bearer <token>."))
			return
		}
		if subtle.ConstantTimeCompare([]byte(token), []byte(s.AdminToken)) != 1 {
			s.Error(w, r, geopulse.Errorf(geopulse.EUNAUTHORIZED, "Invalid admin token."))
			return
		}
		next(w, r)
	}
}

// deadLetterJSON is a dead letter as the admin API shows it. The payload is
// the original body as text (invalid UTF-8 replaced), since an undecodable
// body is exactly what an operator needs to read.
type deadLetterJSON struct {
	Seq        uint64    `json:"seq"`
	Reason     string    `json:"reason"`
	Error      string    `json:"error"`
	Subject    string    `json:"subject"`
	StreamSeq  uint64    `json:"stream_seq"`
	Deliveries uint64    `json:"deliveries"`
	ReceivedAt time.Time `json:"received_at"`
	DeadAt     time.Time `json:"dead_at"`
	Payload    string    `json:"payload"`
}

type deadLettersResponse struct {
	DeadLetters []deadLetterJSON `json:"dead_letters"`
	// NextAfter is the "after" of the next page; 0 at the end.
	NextAfter uint64 `json:"next_after"`
}

const (
	defaultDeadLetterLimit = 100
	maxDeadLetterLimit     = 1000
)

func (s *Server) deadLetters(w http.ResponseWriter, r *http.Request) (DeadLetterService, bool) {
	if s.DeadLetters == nil {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "This deployment has no dead-letter queue."))
		return nil, false
	}
	return s.DeadLetters, true
}

// handleListDeadLetters pages through the dead letters, oldest first.
func (s *Server) handleListDeadLetters(w http.ResponseWriter, r *http.Request) {
	dl, ok := s.deadLetters(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	limit, err := parseInt("limit", q.Get("limit"), defaultDeadLetterLimit, 1, maxDeadLetterLimit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	after, err := parseUint("after", q.Get("after"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, err := dl.DeadLetters(r.Context(), after, int(limit))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res := deadLettersResponse{DeadLetters: make([]deadLetterJSON, len(list))}
	for i, d := range list {
		res.DeadLetters[i] = deadLetterJSON{
			Seq: d.Seq, Reason: d.Reason, Error: d.Error, Subject: d.Subject, StreamSeq: d.StreamSeq,
			Deliveries: d.Deliveries, ReceivedAt: d.ReceivedAt.UTC(), DeadAt: d.DeadAt.UTC(),
			Payload: strings.ToValidUTF8(string(d.Data), string(utf8.RuneError)),
		}
	}
	if len(list) == int(limit) {
		res.NextAfter = list[len(list)-1].Seq
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

type redriveRequest struct {
	Seqs []uint64 `json:"seqs"`
	All  bool     `json:"all"`
}

type redriveResponse struct {
	Redriven int `json:"redriven"`
}

// handleRedriveDeadLetters puts dead letters back into the stream.
func (s *Server) handleRedriveDeadLetters(w http.ResponseWriter, r *http.Request) {
	dl, ok := s.deadLetters(w, r)
	if !ok {
		return
	}
	if err := checkContentType(r, "application/json"); err != nil {
		s.Error(w, r, err)
		return
	}
	body, err := s.body(w, r)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var req redriveRequest
	if err := decodeJSON(body, &req); err != nil {
		s.Error(w, r, err)
		return
	}
	var n int
	switch {
	case req.All && len(req.Seqs) > 0:
		err = paramError("seqs", "Send either seqs or all, not both.")
	case req.All:
		n, err = dl.RedriveAll(r.Context())
	case len(req.Seqs) == 0:
		err = paramError("seqs", "Name the dead letters to redrive (seqs) or send all: true.")
	case len(req.Seqs) > maxDeadLetterLimit:
		err = paramError("seqs", "At most %d dead letters per request.", maxDeadLetterLimit)
	default:
		n, err = dl.Redrive(r.Context(), req.Seqs)
	}
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, redriveResponse{Redriven: n})
}

// parseUint parses an optional non-negative integer parameter (0 if empty).
func parseUint(param, v string) (uint64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, paramError(param, "%s must be a non-negative integer.", param)
	}
	return n, nil
}

// ComplianceLog is the record of applied compliance events.
type ComplianceLog interface {
	ComplianceLog(ctx context.Context, after int64, limit int) ([]geopulse.ComplianceRecord, error)
}

type complianceLogResponse struct {
	Events []geopulse.ComplianceRecord `json:"events"`
	// NextAfter is the "after" of the next page; 0 at the end.
	NextAfter int64 `json:"next_after"`
}

// handleComplianceLog pages through applied compliance events, oldest
// first. Records hold hashed ids and counts, never a handle.
func (s *Server) handleComplianceLog(w http.ResponseWriter, r *http.Request) {
	if s.Compliance == nil {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "This deployment keeps no compliance log."))
		return
	}
	q := r.URL.Query()
	limit, err := parseInt("limit", q.Get("limit"), defaultDeadLetterLimit, 1, maxDeadLetterLimit)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	after, err := parseUint("after", q.Get("after"))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	list, err := s.Compliance.ComplianceLog(r.Context(), int64(after), int(limit))
	if err != nil {
		s.Error(w, r, err)
		return
	}
	res := complianceLogResponse{Events: list}
	if res.Events == nil {
		res.Events = []geopulse.ComplianceRecord{}
	}
	if len(list) == int(limit) {
		res.NextAfter = list[len(list)-1].Seq
	}
	s.writeJSON(w, r, http.StatusOK, res)
}
