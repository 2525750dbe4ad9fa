package http

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source"
	"github.com/geopulse/geopulse/source/instagram"
)

// Hook is a signed webhook for any producer: POST /v1/hooks/{name} with a
// body in Format, authenticated by an HMAC of the body under Secret (see
// VerifyHookSignature) instead of an API key.
type Hook struct {
	Secret string
	Format source.Format
}

// InstagramHook is the Instagram webhook (POST /v1/hooks/instagram) and its
// subscription handshake (GET).
type InstagramHook struct {
	// AppSecret signs deliveries (X-Hub-Signature-256); VerifyToken is what
	// the handshake must present.
	AppSecret, VerifyToken string
	// Mentioned is told of each media that mentioned a subscribed account
	// (entry id); the media must be fetched from the Graph API to become a
	// post, which the caller does later, politely (the poller). nil: the
	// mentions are counted and dropped.
	Mentioned func(ctx context.Context, accountID, mediaID, commentID string) error
}

// Signature headers of generic hooks.
const (
	HeaderHookTimestamp = "X-Geopulse-Timestamp"
	HeaderHookSignature = "X-Geopulse-Signature"
)

// hookMaxSkew is how old (or early) a signed delivery may be: a captured
// delivery cannot be replayed later.
const hookMaxSkew = 5 * time.Minute

// SignHook returns the X-Geopulse-Signature value for body sent at ts:
// "sha256=" + hex(HMAC-SHA256(secret, "<unix seconds>." + body)).
func SignHook(secret string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// VerifyHookSignature checks a generic hook delivery: the timestamp header
// within hookMaxSkew of now and the signature, compared in constant time.
func VerifyHookSignature(secret, tsHeader, sigHeader string, body []byte, now time.Time) error {
	sec, err := strconv.ParseInt(strings.TrimSpace(tsHeader), 10, 64)
	if err != nil {
		return geopulse.Errorf(geopulse.EUNAUTHORIZED, "%s must be the Unix time of the delivery in seconds.", HeaderHookTimestamp)
	}
	if skew := now.Sub(time.Unix(sec, 0)); math.Abs(float64(skew)) > float64(hookMaxSkew) {
		return geopulse.Errorf(geopulse.EUNAUTHORIZED, "The delivery's timestamp is more than %s from the server's clock.", hookMaxSkew)
	}
	want := SignHook(secret, time.Unix(sec, 0), body)
	if subtle.ConstantTimeCompare([]byte(strings.TrimSpace(sigHeader)), []byte(want)) != 1 {
		return geopulse.Errorf(geopulse.EUNAUTHORIZED, "The signature does not match the body.")
	}
	return nil
}

// readSigned reads the raw body, which is what a signature covers: no
// Content-Encoding is accepted on hooks.
func (s *Server) readSigned(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "identity") {
		return nil, paramError("content_encoding", "Webhook bodies are signed as sent; send them without Content-Encoding.")
	}
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	return io.ReadAll(clientBody{http.MaxBytesReader(w, r.Body, limit)})
}

// handleHook takes a signed delivery of a generic hook.
func (s *Server) handleHook(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	hook, ok := s.Hooks[name]
	if !ok || name == "instagram" {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "No webhook named %q.", name))
		return
	}
	body, err := s.readSigned(w, r, s.maxBodyBytes())
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if err := VerifyHookSignature(hook.Secret, r.Header.Get(HeaderHookTimestamp), r.Header.Get(HeaderHookSignature), body, s.now()); err != nil {
		s.logger.WarnContext(r.Context(), "webhook signature refused", "hook", name, "remote", r.RemoteAddr)
		s.Error(w, r, err)
		return
	}
	res, err := s.ingestItems(r.Context(), true, func(fn func(source.Item) error) error {
		return hook.Format.Decode(strings.NewReader(string(body)), fn)
	})
	if err != nil {
		s.Error(w, r, err)
		return
	}
	s.writeJSON(w, r, http.StatusOK, res)
}

// handleInstagramHandshake answers Meta's subscription check: echo
// hub.challenge when hub.verify_token is ours.
func (s *Server) handleInstagramHandshake(w http.ResponseWriter, r *http.Request) {
	ig := s.Instagram
	if ig == nil {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "The Instagram webhook is not configured."))
		return
	}
	q := r.URL.Query()
	if q.Get("hub.mode") != "subscribe" || ig.VerifyToken == "" ||
		subtle.ConstantTimeCompare([]byte(q.Get("hub.verify_token")), []byte(ig.VerifyToken)) != 1 {
		s.Error(w, r, geopulse.Errorf(geopulse.EFORBIDDEN, "Wrong hub.mode or hub.verify_token."))
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, q.Get("hub.challenge"))
}

type instagramHookResponse struct {
	Entries  int `json:"entries"`
	Mentions int `json:"mentions"`
	Ignored  int `json:"ignored"`
}

// handleInstagramHook takes a signed Instagram delivery. Mentions are
// handed on to be fetched; other fields are counted and ignored (none of
// them carries a located post).
func (s *Server) handleInstagramHook(w http.ResponseWriter, r *http.Request) {
	ig := s.Instagram
	if ig == nil {
		s.Error(w, r, geopulse.Errorf(geopulse.ENOTFOUND, "The Instagram webhook is not configured."))
		return
	}
	body, err := s.readSigned(w, r, instagram.MaxWebhookBytes)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	if !instagram.VerifySignature(body, r.Header.Get("X-Hub-Signature-256"), ig.AppSecret) {
		s.logger.WarnContext(r.Context(), "instagram webhook signature refused", "remote", r.RemoteAddr)
		s.Error(w, r, geopulse.Errorf(geopulse.EUNAUTHORIZED, "X-Hub-Signature-256 does not match the body."))
		return
	}
	hook, err := instagram.DecodeWebhook(body)
	if err != nil {
		s.Error(w, r, err)
		return
	}
	var res instagramHookResponse
	for _, e := range hook.Entries {
		res.Entries++
		for _, ch := range e.Changes {
			if ch.Field != "mentions" || ch.MediaID == "" || ig.Mentioned == nil {
				res.Ignored++
				continue
			}
			if err := ig.Mentioned(r.Context(), e.ID, ch.MediaID, ch.CommentID); err != nil {
				// Meta redelivers on failure: let it.
				s.Error(w, r, errors.Join(geopulse.Errorf(geopulse.ETOOMANY, "Cannot take the mention now; retry."), err))
				return
			}
			res.Mentions++
		}
	}
	s.writeJSON(w, r, http.StatusOK, res)
}
