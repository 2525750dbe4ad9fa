package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	nethttp "net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

// binDir holds the binary built for the tests; TestMain removes it.
var binDir string

// buildBinary builds the geopulse binary once for the tests that need it.
var buildBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "geopulse-bin-")
	if err != nil {
		return "", err
	}
	binDir = dir
	bin := filepath.Join(dir, "geopulse")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %v\n%s", err, out)
	}
	return bin, nil
})

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

func binary(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := buildBinary()
	if err != nil {
		t.Fatal(err)
	}
	return bin
}

// serveProc is one run of `geopulse serve` as a child process.
type serveProc struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan error
}

// startServe runs the binary on addr and data and waits until it is up.
func startServe(t *testing.T, bin, addr, data string) *serveProc {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--addr", addr, "--data", data, "--log-level", "warn")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &serveProc{cmd: cmd, stderr: &bytes.Buffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	up := make(chan bool, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		ok := false
		for sc.Scan() {
			if !ok && strings.Contains(sc.Text(), "geopulse is up on") {
				ok = true
				up <- true
			}
		}
		if !ok {
			up <- false
		}
		io.Copy(io.Discard, stdout)
	}()
	select {
	case ok := <-up:
		if !ok {
			cmd.Wait()
			t.Fatalf("serve exited before it was up:\n%s", p.stderr)
		}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("serve not up after 60 s:\n%s", p.stderr)
	}
	go func() { p.done <- cmd.Wait() }()
	return p
}

func (p *serveProc) kill() {
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// crashClient sends posts over the API and records what was acknowledged.
type crashClient struct {
	url, key string
	mu       sync.Mutex
	acked    map[string]bool
	// ackedSinceStart counts acknowledgements since the last restart, so
	// the killer strikes while the server is busy.
	ackedSinceStart int
	retries         int
}

// send posts one batch until every post in it is acknowledged; errors
// (the server killed mid-request, 429, items refused) mean resend.
func (c *crashClient) send(ctx context.Context, batch []*geopulse.Post) error {
	todo := batch
	for len(todo) > 0 {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%d posts never acknowledged: %w", len(todo), err)
		}
		var body []byte
		for _, p := range todo {
			body = append(canonical.AppendJSON(body, p), '\n')
		}
		req, _ := nethttp.NewRequestWithContext(ctx, "POST", c.url+"/v1/posts", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+c.key)
		req.Header.Set("Content-Type", "application/x-ndjson")
		resp, err := nethttp.DefaultClient.Do(req)
		if err != nil {
			c.retry(len(todo))
			continue
		}
		var res struct {
			Items []struct {
				Index  int
				Status string
				Code   string
			}
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || json.Unmarshal(data, &res) != nil || len(res.Items) != len(todo) {
			c.retry(len(todo))
			continue
		}
		var again []*geopulse.Post
		c.mu.Lock()
		for _, it := range res.Items {
			p := todo[it.Index]
			switch {
			case it.Status == "accepted":
				c.acked[p.SourceID] = true
				c.ackedSinceStart++
			case it.Code == geopulse.EINVALID:
				c.mu.Unlock()
				return fmt.Errorf("post %s rejected: %s", p.SourceID, data)
			default:
				again = append(again, p)
			}
		}
		c.mu.Unlock()
		if len(again) > 0 {
			c.retry(len(again))
		}
		todo = again
	}
	return nil
}

func (c *crashClient) retry(n int) {
	c.mu.Lock()
	c.retries += n
	c.mu.Unlock()
	time.Sleep(50 * time.Millisecond)
}

// TestCrashKill9: posts go in over the API while `geopulse serve` is
// killed with SIGKILL at random moments and restarted on the same data
// directory. Afterwards exactly the acknowledged posts are stored, none
// twice: the stream kept what it acknowledged, workers redelivered what
// they had not committed, and the store absorbed the redeliveries.
func TestCrashKill9(t *testing.T) {
	bin := binary(t)
	data := t.TempDir()
	out, err := exec.Command(bin, "admin", "create-workspace", "--data", data, "crash").Output()
	if err != nil {
		t.Fatalf("create workspace: %v", err)
	}
	key := strings.TrimSpace(string(out))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr

	proc := startServe(t, bin, addr, data)
	defer func() {
		if proc != nil {
			proc.kill()
		}
	}()
	place := `{"name":"Crash site","center":{"lat":51.5,"lon":-0.12},"radius_m":2000}`
	if code := rawCall(t, "POST", base+"/v1/places", key, "application/json", place, nil); code != 201 && code != 200 {
		t.Fatalf("create place: %d", code)
	}

	const total, size, kills = 6000, 100, 4
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewPCG(uint64(seed), 1))
	t.Logf("kill schedule seed %d", seed)
	taken := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	all := make([]*geopulse.Post, total)
	for i := range all {
		id := fmt.Sprintf("crash-%05d", i)
		all[i] = &geopulse.Post{
			Source: "crash", SourceID: id, Kind: geopulse.KindPhoto, TakenAt: taken,
			Lat: 51.5 + float64(i%100)*0.0001, Lon: -0.12, Caption: "post " + id,
			Author: geopulse.Author{SourceID: "author-" + id[len(id)-2:], Handle: "h" + id[len(id)-2:]},
		}
	}

	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	c := &crashClient{url: base, key: key, acked: map[string]bool{}}
	sent := make(chan error, 1)
	go func() {
		for i := 0; i < total; i += size {
			if err := c.send(ctx, all[i:i+size]); err != nil {
				sent <- err
				return
			}
		}
		sent <- nil
	}()

	// The killer: once the client has had some posts acknowledged since
	// the last start, wait a random moment, kill -9, restart.
	var clientErr error
	clientDone := false
	killed := 0
	for k := 0; k < kills && !clientDone; k++ {
		threshold := 100 + rng.IntN(300)
		for !clientDone {
			c.mu.Lock()
			n := c.ackedSinceStart
			c.mu.Unlock()
			if n >= threshold {
				break
			}
			select {
			case clientErr = <-sent:
				clientDone = true
			case <-time.After(5 * time.Millisecond):
			}
		}
		if clientDone {
			break
		}
		time.Sleep(time.Duration(rng.IntN(40)) * time.Millisecond)
		proc.kill()
		killed++
		c.mu.Lock()
		t.Logf("kill %d after %d acknowledged", killed, len(c.acked))
		c.mu.Unlock()
		proc = startServe(t, bin, addr, data)
		c.mu.Lock()
		c.ackedSinceStart = 0
		c.mu.Unlock()
	}
	if !clientDone {
		clientErr = <-sent
	}
	if clientErr != nil {
		t.Fatal(clientErr)
	}
	if killed < 3 {
		t.Fatalf("the client finished after %d kills; the test needs at least 3", killed)
	}
	if len(c.acked) != total {
		t.Fatalf("%d posts acknowledged, want %d", len(c.acked), total)
	}

	// Let the workers drain, then read every stored post through the API.
	var an struct{ Posts int64 }
	deadline := time.Now().Add(60 * time.Second)
	for an.Posts < total {
		if time.Now().After(deadline) {
			t.Fatalf("only %d of %d posts stored after draining", an.Posts, total)
		}
		time.Sleep(100 * time.Millisecond)
		rawCall(t, "GET", base+"/v1/analytics?from=2000-01-01T00:00:00Z", key, "", "", &an)
	}
	stored := map[string]int{}
	cursor := ""
	for {
		var page struct {
			Posts []struct {
				SourceID string `json:"source_id"`
			}
			NextCursor string `json:"next_cursor"`
		}
		path := "/v1/posts?limit=500&from=2000-01-01T00:00:00Z"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if code := rawCall(t, "GET", base+path, key, "", "", &page); code != 200 {
			t.Fatalf("feed: %d", code)
		}
		for _, p := range page.Posts {
			stored[p.SourceID]++
		}
		if page.NextCursor == "" {
			break
		}
		cursor = page.NextCursor
	}
	for id, n := range stored {
		if n != 1 {
			t.Errorf("post %s stored %d times", id, n)
		}
		if !c.acked[id] {
			t.Errorf("post %s stored but never acknowledged", id)
		}
	}
	for id := range c.acked {
		if stored[id] == 0 {
			t.Errorf("acknowledged post %s is missing", id)
		}
	}
	if an.Posts != total || len(stored) != total {
		t.Fatalf("analytics %d posts, feed %d distinct; want %d", an.Posts, len(stored), total)
	}
	t.Logf("%d posts, %d resends after errors", total, c.retries)

	// A clean stop after all that.
	proc.cmd.Process.Signal(os.Interrupt)
	if err := <-proc.done; err != nil {
		t.Errorf("serve did not stop cleanly: %v\n%s", err, proc.stderr)
	}
	proc = nil
}

// rawCall sends one request to a server outside the test process.
func rawCall(t *testing.T, method, url, key, contentType, body string, out any) int {
	t.Helper()
	req, err := nethttp.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := nethttp.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, url, err, data)
		}
	}
	return resp.StatusCode
}
