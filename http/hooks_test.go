package http_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	gphttp "github.com/geopulse/geopulse/http"
	"github.com/geopulse/geopulse/source/formats"
)

func TestGenericHook(t *testing.T) {
	const secret = "s3cret-of-the-partner"
	e := newEnv(t, func(s *gphttp.Server) {
		s.Hooks = map[string]gphttp.Hook{"partner": {Secret: secret, Format: formats.Canonical}}
	})
	key := e.workspace("acme")
	e.createVenue(key, "louvre", louvre)
	body := ndjson(newPost("h1", louvre, 1), newPost("h2", louvre, 2))
	body = append(body, []byte(`{"source":"test","source_id":"bad","taken_at":"2025-06-01T10:00:00Z","location":{"lat":91,"lon":0},"author":{"source_id":"a"}}`+"\n")...)
	deliver := func(path string, ts time.Time, sig string, b []byte) response {
		return e.do(request{method: http.MethodPost, path: path, body: b, header: map[string]string{
			"Content-Type":             "application/x-ndjson",
			gphttp.HeaderHookTimestamp: strconv.FormatInt(ts.Unix(), 10),
			gphttp.HeaderHookSignature: sig,
		}})
	}

	t.Run("signed", func(t *testing.T) {
		var res struct {
			Accepted, Rejected int
			Items              []struct{ Status, Reason string }
		}
		deliver("/v1/hooks/partner", now, gphttp.SignHook(secret, now, body), body).decode(t, 200, &res)
		if res.Accepted != 2 || res.Rejected != 1 || res.Items[2].Reason != geopulse.ReasonInvalidCoordinates {
			t.Fatalf("answer = %+v", res)
		}
		if got := sorted(e.feedIDs(key, "")); len(got) != 2 {
			t.Fatalf("feed = %v", got)
		}
	})
	// The scheme is documented for senders: check SignHook against a
	// computation written from the documentation.
	t.Run("documented scheme", func(t *testing.T) {
		mac := hmac.New(sha256.New, []byte(secret))
		fmt.Fprintf(mac, "%d.%s", now.Unix(), body)
		if want := "sha256=" + hex.EncodeToString(mac.Sum(nil)); gphttp.SignHook(secret, now, body) != want {
			t.Fatalf("SignHook = %s, want %s", gphttp.SignHook(secret, now, body), want)
		}
	})
	for _, tt := range []struct {
		name, path string
		ts         time.Time
		sig        string
		status     int
	}{
		{"wrong secret", "/v1/hooks/partner", now, gphttp.SignHook("guess", now, body), 401},
		{"no signature", "/v1/hooks/partner", now, "", 401},
		{"replayed later", "/v1/hooks/partner", now.Add(-10 * time.Minute), gphttp.SignHook(secret, now.Add(-10*time.Minute), body), 401},
		{"from the future", "/v1/hooks/partner", now.Add(10 * time.Minute), gphttp.SignHook(secret, now.Add(10*time.Minute), body), 401},
		{"unknown hook", "/v1/hooks/nobody", now, gphttp.SignHook(secret, now, body), 404},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := deliver(tt.path, tt.ts, tt.sig, body)
			if res.status != tt.status {
				t.Fatalf("status = %d (%s), want %d", res.status, res.body, tt.status)
			}
		})
	}
	t.Run("body changed after signing", func(t *testing.T) {
		sig := gphttp.SignHook(secret, now, body)
		tampered := append([]byte(nil), body...)
		tampered[10] ^= 1
		if res := deliver("/v1/hooks/partner", now, sig, tampered); res.status != 401 {
			t.Fatalf("status = %d", res.status)
		}
	})
}

func TestInstagramHook(t *testing.T) {
	const appSecret, verify = "app-secret", "verify-me"
	type mention struct{ account, media, comment string }
	var got []mention
	e := newEnv(t, func(s *gphttp.Server) {
		s.Instagram = &gphttp.InstagramHook{AppSecret: appSecret, VerifyToken: verify,
			Mentioned: func(_ context.Context, account, media, comment string) error {
				got = append(got, mention{account, media, comment})
				return nil
			}}
	})

	if res := e.get("", "/v1/hooks/instagram?hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=12345"); res.status != 200 || string(res.body) != "12345" {
		t.Fatalf("handshake = %d %q", res.status, res.body)
	}
	if res := e.get("", "/v1/hooks/instagram?hub.mode=subscribe&hub.verify_token=nope&hub.challenge=12345"); res.status != 403 {
		t.Fatalf("handshake with a wrong token = %d", res.status)
	}

	body := []byte(`{"object":"instagram","entry":[{"id":"17841400000000001","time":1717236000,"changes":[` +
		`{"field":"mentions","value":{"media_id":"17900000000000001"}},` +
		`{"field":"mentions","value":{"media_id":"17900000000000002","comment_id":"17800000000000009"}},` +
		`{"field":"story_insights","value":{"media_id":"1","impressions":3}}]}]}`)
	mac := hmac.New(sha256.New, []byte(appSecret))
	mac.Write(body)
	sig := "sha256=" + hex.EncodeToString(mac.Sum(nil))
	post := func(sig string, b []byte) response {
		return e.do(request{method: http.MethodPost, path: "/v1/hooks/instagram", body: b,
			header: map[string]string{"Content-Type": "application/json", "X-Hub-Signature-256": sig}})
	}
	var res struct{ Entries, Mentions, Ignored int }
	post(sig, body).decode(t, 200, &res)
	if res.Entries != 1 || res.Mentions != 2 || res.Ignored != 1 {
		t.Fatalf("answer = %+v", res)
	}
	want := []mention{{"17841400000000001", "17900000000000001", ""}, {"17841400000000001", "17900000000000002", "17800000000000009"}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("mentions = %v, want %v", got, want)
	}
	if r := post("sha256=00", body); r.status != 401 {
		t.Fatalf("bad signature = %d", r.status)
	}
	if r := post("", body); r.status != 401 {
		t.Fatalf("no signature = %d", r.status)
	}
	if len(got) != 2 {
		t.Fatalf("refused deliveries reached the poller: %v", got)
	}
}
