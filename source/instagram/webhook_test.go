package instagram_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/instagram"
)

func TestDecodeWebhook(t *testing.T) {
	tests := []struct {
		file string
		want *instagram.Webhook
	}{{
		file: "mentions.json",
		want: &instagram.Webhook{Object: "instagram", Entries: []instagram.WebhookEntry{{
			ID: "17841405822304914", Time: time.Unix(1600000000, 0).UTC(),
			Changes: []instagram.WebhookChange{
				{Field: "mentions", Value: json.RawMessage(`{"media_id":"17918195224117851","comment_id":"17894227972186120"}`), MediaID: "17918195224117851", CommentID: "17894227972186120"},
				{Field: "mentions", Value: json.RawMessage(`{"media_id":"17918195224117852"}`), MediaID: "17918195224117852"},
			},
		}}},
	}, {
		file: "messaging.json",
		want: &instagram.Webhook{Object: "instagram", Entries: []instagram.WebhookEntry{{
			// Messaging entries carry milliseconds.
			ID: "17841400008460056", Time: time.UnixMilli(1569262486134).UTC(),
			Changes: []instagram.WebhookChange{{
				Field: "messaging",
				Value: json.RawMessage(`{"sender":{"id":"1234567890"},"recipient":{"id":"17841400008460056"},"timestamp":1569262485349,"message":{"mid":"aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOjE3ODQxNDAwMDA4NDYwMDU2","text":"Hello"}}`),
			}},
		}}},
	}}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			wh, err := instagram.DecodeWebhook(readFile(t, "webhook/"+tt.file))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(wh, tt.want) {
				t.Errorf("got  %+v\nwant %+v", wh, tt.want)
			}
		})
	}

	// A change of a field this package does not type keeps its value.
	wh, err := instagram.DecodeWebhook(readFile(t, "webhook/comments.json"))
	if err != nil {
		t.Fatal(err)
	}
	ch := wh.Entries[0].Changes[0]
	var v struct {
		Text string `json:"text"`
	}
	if ch.Field != "comments" || ch.MediaID != "" || json.Unmarshal(ch.Value, &v) != nil || v.Text != "This is an example." {
		t.Errorf("comments change %+v", ch)
	}
}

func TestDecodeWebhookBad(t *testing.T) {
	tests := []struct {
		name, body, wantReason string
	}{
		{"empty", ``, geopulse.ReasonMalformedJSON},
		{"truncated", `{"object":"instagram","entry":[{"id":"1"`, geopulse.ReasonMalformedJSON},
		{"not JSON", `object=instagram`, geopulse.ReasonMalformedJSON},
		{"invalid UTF-8", "{\"object\":\"instagram\",\"entry\":[],\"x\":\"\xff\"}", geopulse.ReasonInvalidUTF8},
		{"another object", `{"object":"page","entry":[]}`, geopulse.ReasonInvalidField},
		{"no object", `{"entry":[]}`, geopulse.ReasonInvalidField},
		{"no entry", `{"object":"instagram"}`, geopulse.ReasonMissingField},
		{"entry not a list", `{"object":"instagram","entry":{}}`, geopulse.ReasonInvalidField},
		{"entry without id", `{"object":"instagram","entry":[{"time":1,"changes":[]}]}`, geopulse.ReasonMissingField},
		{"id with a newline", `{"object":"instagram","entry":[{"id":"1\n","changes":[]}]}`, geopulse.ReasonInvalidField},
		{"time a word", `{"object":"instagram","entry":[{"id":"1","time":"now"}]}`, geopulse.ReasonInvalidField},
		{"changes not a list", `{"object":"instagram","entry":[{"id":"1","changes":{}}]}`, geopulse.ReasonInvalidField},
		{"change without field", `{"object":"instagram","entry":[{"id":"1","changes":[{"value":{}}]}]}`, geopulse.ReasonInvalidField},
		{"mention without media", `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{"comment_id":"2"}}]}]}`, geopulse.ReasonMissingField},
		{"mention value a string", `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":"x"}]}]}`, geopulse.ReasonInvalidField},
		{"mention id an object", `{"object":"instagram","entry":[{"id":"1","changes":[{"field":"mentions","value":{"media_id":{}}}]}]}`, geopulse.ReasonInvalidField},
		{"too large", `{"object":"instagram","entry":[],"pad":"` + strings.Repeat("x", instagram.MaxWebhookBytes) + `"}`, geopulse.ReasonTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh, err := instagram.DecodeWebhook([]byte(tt.body))
			if err == nil {
				t.Fatalf("accepted: %+v", wh)
			}
			checkRejection(t, err)
			if got := geopulse.ErrorReason(err); got != tt.wantReason {
				t.Errorf("reason %q (%v), want %q", got, err, tt.wantReason)
			}
		})
	}
}

// TestVerifySignature checks signatures computed independently (openssl,
// see testdata/README.md) and the ways a signature can be wrong.
func TestVerifySignature(t *testing.T) {
	const secret = "test-app-secret"
	body := readFile(t, "webhook/mentions.json")
	sig := strings.TrimSpace(string(readFile(t, "webhook/mentions.sig")))
	for _, name := range []string{"mentions", "comments", "messaging"} {
		b := readFile(t, "webhook/"+name+".json")
		s := strings.TrimSpace(string(readFile(t, "webhook/"+name+".sig")))
		if !instagram.VerifySignature(b, s, secret) {
			t.Errorf("%s: valid signature refused", name)
		}
	}
	tampered := append([]byte{}, body...)
	tampered[len(tampered)-3] ^= 1
	tests := []struct {
		name         string
		body         []byte
		header, key  string
		wantVerified bool
	}{
		{"upper-case hex and prefix", body, "SHA256=" + strings.ToUpper(strings.TrimPrefix(sig, "sha256=")), secret, true},
		{"tampered body", tampered, sig, secret, false},
		{"wrong secret", body, sig, "other-secret", false},
		{"empty secret", body, "sha256=" + hmacHex(body, ""), "", false},
		{"sha1 header", body, "sha1=" + strings.TrimPrefix(sig, "sha256="), secret, false},
		{"no prefix", body, strings.TrimPrefix(sig, "sha256="), secret, false},
		{"truncated hex", body, sig[:len(sig)-2], secret, false},
		{"odd hex", body, sig[:len(sig)-1], secret, false},
		{"not hex", body, "sha256=" + strings.Repeat("zz", 32), secret, false},
		{"empty header", body, "", secret, false},
	}
	for _, tt := range tests {
		if got := instagram.VerifySignature(tt.body, tt.header, tt.key); got != tt.wantVerified {
			t.Errorf("%s: verified %v, want %v", tt.name, got, tt.wantVerified)
		}
	}
}

// hmacHex signs body; only used where the test is about refusing a
// correctly signed body.
func hmacHex(body []byte, key string) string {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return hex.EncodeToString(m.Sum(nil))
}
