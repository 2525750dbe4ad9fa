package main

import (
	"encoding/json"
	"fmt"
	nethttp "net/http"
	"strings"
	"testing"
	"time"

	gphttp "github.com/geopulse/geopulse/http"
)

// TestServeCompliance sends posts through the API of a running server and
// then compliance events in the canonical schema through a signed webhook
// (a workspace key may not send them): the events flow through the stream
// to the pipeline, the posts disappear from the feed, and the same posts
// sent again are refused at intake with a reason.
func TestServeCompliance(t *testing.T) {
	m := startMain(t, func(c *Config) {
		c.Demo.Enabled, c.Demo.Live, c.Demo.HistoryPosts = true, false, 100
		c.AdminToken = "admin-secret"
		c.Sources.Hooks = []HookConfig{{Name: "xcompliance", Secret: "hook-secret"}}
	})
	var places struct {
		Places []struct {
			ID     int64
			Center struct{ Lat, Lon float64 }
		}
	}
	call(t, m, "GET", "/v1/places", m.DemoKey, "", &places)
	if len(places.Places) == 0 {
		t.Fatal("no demo places")
	}
	pl := places.Places[0]
	taken := time.Now().UTC().Add(-time.Hour).Format(time.RFC3339)
	post := func(id, author string) string {
		return fmt.Sprintf(`{"source":"x","source_id":%q,"taken_at":%q,"location":{"lat":%g,"lon":%g},"author":{"source_id":%q,"handle":"h%s"},"caption":"hi #ctest"}`,
			id, taken, pl.Center.Lat, pl.Center.Lon, author, author)
	}
	body := strings.Join([]string{post("c1", "ann"), post("c2", "ann"), post("c3", "bob"), post("c4", "cat")}, "\n")
	var res struct {
		Accepted int
		Items    []struct{ Status, Reason string }
	}
	if code := call(t, m, "POST", "/v1/posts", m.DemoKey, body, &res); code != 200 || res.Accepted != 4 {
		t.Fatalf("posts = %d, %+v", code, res)
	}
	feed := func() []string {
		var f struct {
			Posts []struct {
				SourceID string `json:"source_id"`
			}
		}
		call(t, m, "GET", fmt.Sprintf("/v1/posts?place_id=%d&hashtag=ctest", pl.ID), m.DemoKey, "", &f)
		var ids []string
		for _, p := range f.Posts {
			ids = append(ids, p.SourceID)
		}
		return ids
	}
	waitFeed := func(want int) []string {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			ids := feed()
			if len(ids) == want {
				return ids
			}
			if time.Now().After(deadline) {
				t.Fatalf("feed = %v, want %d posts", ids, want)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
	waitFeed(4)

	events := strings.Join([]string{
		`{"v":1,"event":"delete","source":"x","source_id":"c3"}`,
		`{"v":1,"event":"user_protect","source":"x","author":{"source_id":"ann"}}`,
		`{"v":1,"event":"scrub_geo","source":"x"}`, // no author: refused
	}, "\n")
	// A workspace key may not delete what every workspace sees.
	if code := call(t, m, "POST", "/v1/posts", m.DemoKey, events, &res); code != 200 || res.Accepted != 0 || res.Items[0].Reason != "unsupported" {
		t.Fatalf("events with a workspace key = %d, %+v", code, res)
	}
	now := time.Now()
	req, _ := nethttp.NewRequest("POST", m.URL()+"/v1/hooks/xcompliance", strings.NewReader(events))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set(gphttp.HeaderHookTimestamp, fmt.Sprint(now.Unix()))
	req.Header.Set(gphttp.HeaderHookSignature, gphttp.SignHook("hook-secret", now, []byte(events)))
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	err = json.NewDecoder(resp.Body).Decode(&res)
	resp.Body.Close()
	if err != nil || resp.StatusCode != 200 || res.Accepted != 2 || res.Items[2].Status != "rejected" || res.Items[2].Reason != "missing_field" {
		t.Fatalf("events through the hook = %s, %+v, %v", resp.Status, res, err)
	}
	if ids := waitFeed(1); ids[0] != "c4" {
		t.Fatalf("feed after events = %v, want [c4]", ids)
	}
	if code := call(t, m, "POST", "/v1/posts", m.DemoKey, body, &res); code != 200 || res.Accepted != 1 {
		t.Fatalf("re-sent posts = %d, %+v", code, res)
	}
	want := []string{"suppressed", "suppressed", "deleted_at_source", ""}
	for i, it := range res.Items {
		if it.Reason != want[i] {
			t.Fatalf("re-sent item %d: %+v, want reason %q", i, it, want[i])
		}
	}

	// The operator sees what was applied: kinds and counts, no handles.
	var log struct {
		Events []struct {
			Kind   string
			Result struct {
				PostsRemoved int `json:"posts_removed"`
			}
		}
	}
	if code := call(t, m, "GET", "/v1/admin/compliance", "admin-secret", "", &log); code != 200 || len(log.Events) != 2 ||
		log.Events[0].Kind != "delete" || log.Events[0].Result.PostsRemoved != 1 || log.Events[1].Result.PostsRemoved != 2 {
		t.Fatalf("compliance log = %d, %+v", code, log)
	}
}
