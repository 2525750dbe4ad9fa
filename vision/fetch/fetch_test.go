package fetch

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/geopulse/geopulse"
)

func TestImageDecodes(t *testing.T) {
	tests := []struct {
		name     string
		data     func(t *testing.T) []byte
		declared string
		wantType string
		w, h     int
	}{
		{"jpeg photo", func(t *testing.T) []byte { return photo(t, "/usr/share/darknet/data/dog.jpg") }, "image/jpeg", "image/jpeg", 768, 576},
		{"png photo", func(t *testing.T) []byte { return photo(t, "/usr/lib/python3/dist-packages/skimage/data/coffee.png") }, "image/png", "image/png", 600, 400},
		{"webp lossy", func(t *testing.T) []byte { return readFile(t, "testdata/blue-purple-pink.lossy.webp") }, "image/webp", "image/webp", 150, 100},
		{"webp lossless", func(t *testing.T) []byte { return readFile(t, "testdata/blue-purple-pink.lossless.webp") }, "image/webp", "image/webp", 150, 100},
		{"generated png", func(t *testing.T) []byte { return pngBytes(t, 64, 48) }, "image/png", "image/png", 64, 48},
		{"declared type with parameters", func(t *testing.T) []byte { return pngBytes(t, 8, 8) }, "Image/PNG; charset=binary", "image/png", 8, 8},
		// A mislabelled but allowed image is decoded as what it is.
		{"jpeg declared as png", func(t *testing.T) []byte { return jpegBytes(t, 32, 16) }, "image/png", "image/jpeg", 32, 16},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			data := tt.data(t)
			srv := serveBytes(t, tt.declared, data)
			f := New(Config{AllowNets: loopback})
			img, info, err := f.Image(t.Context(), srv.URL+"/media")
			if err != nil {
				t.Fatal(err)
			}
			if b := img.Bounds(); b.Dx() != tt.w || b.Dy() != tt.h {
				t.Errorf("bounds = %v, want %d×%d", b, tt.w, tt.h)
			}
			want := Info{URL: srv.URL + "/media", ContentType: tt.wantType, Size: int64(len(data)), Width: tt.w, Height: tt.h}
			if info != want {
				t.Errorf("info = %+v, want %+v", info, want)
			}
		})
	}
}

func TestBytesReturnsBody(t *testing.T) {
	data := pngBytes(t, 4, 4)
	srv := serveBytes(t, "image/png", data)
	got, info, err := New(Config{AllowNets: loopback}).Bytes(t.Context(), srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(data) || info.Size != int64(len(data)) || info.ContentType != "image/png" {
		t.Errorf("got %d bytes, info %+v; want the %d bytes served", len(got), info, len(data))
	}
}

// guardDial lets only loopback connections through, so a refusal that fails
// never sends a packet to a private or metadata address.
func guardDial(t *testing.T, f *Fetcher) {
	f.dial = func(ctx context.Context, network, address string, trusted bool) (net.Conn, error) {
		ap, err := netip.ParseAddrPort(address)
		if err != nil || !ap.Addr().Unmap().IsLoopback() && !ap.Addr().IsUnspecified() {
			t.Errorf("dialled %s, which should have been refused", address)
			return nil, errors.New("test: not dialling a non-loopback address")
		}
		return f.dialIP(ctx, network, address, trusted)
	}
}

func TestRefusesAddresses(t *testing.T) {
	png := pngBytes(t, 4, 4)
	srv := serveBytes(t, "image/png", png)
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	urls := map[string]string{
		"ipv4 loopback":       fmt.Sprintf("http://127.0.0.1:%d/", port),
		"other ipv4 loopback": fmt.Sprintf("http://127.1.2.3:%d/", port),
		"ipv4-mapped":         fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port),
		"unspecified":         fmt.Sprintf("http://0.0.0.0:%d/", port),
		"localhost":           fmt.Sprintf("http://localhost:%d/", port),
		"ipv6 loopback":       fmt.Sprintf("http://[::1]:%d/", port),
		"rfc1918 10/8":        "http://10.0.0.1/",
		"rfc1918 172.16/12":   "http://172.16.5.4/",
		"rfc1918 192.168/16":  "http://192.168.1.1/",
		"cloud metadata":      "http://169.254.169.254/latest/meta-data/",
		"mapped metadata":     "http://[::ffff:169.254.169.254]/",
		"ipv6 link-local":     "http://[fe80::1]/",
		"ipv6 unique local":   "http://[fd00::1]/",
		"cgnat":               "http://100.64.0.1/",
		"multicast":           "http://224.0.0.1/",
		"broadcast":           "http://255.255.255.255/",
		"nat64 of loopback":   "http://[64:ff9b::7f00:1]/",
		"https metadata":      "https://169.254.169.254/",
	}
	for name, u := range urls {
		t.Run(name, func(t *testing.T) {
			f := New(Config{})
			guardDial(t, f)
			_, _, err := f.Image(t.Context(), u)
			wantFailure(t, err, geopulse.EINVALID, ReasonRefusedAddress, false)
		})
	}
	// The same server is reachable once loopback is allowed, so the refusals
	// above are the rules at work, not a dead server.
	if _, _, err := New(Config{AllowNets: loopback}).Image(t.Context(), urls["ipv4 loopback"]); err != nil {
		t.Fatalf("allowed loopback: %v", err)
	}
}

func TestRefusesURLs(t *testing.T) {
	srv := serveBytes(t, "image/png", pngBytes(t, 4, 4))
	u, _ := url.Parse(srv.URL)
	for name, raw := range map[string]string{
		"file":        "file:///etc/passwd",
		"gopher":      "gopher://" + u.Host + "/",
		"ftp":         "ftp://" + u.Host + "/a.png",
		"no scheme":   u.Host + "/a.png",
		"credentials": "http://user:secret@" + u.Host + "/",
		"no host":     "http:///a.png",
		"opaque":      "http:a.png",
		"unparsable":  "http://[::1/",
	} {
		t.Run(name, func(t *testing.T) {
			f := New(Config{AllowNets: loopback})
			_, _, err := f.Image(t.Context(), raw)
			wantFailure(t, err, geopulse.EINVALID, ReasonRefusedURL, false)
		})
	}
}

// Reserved names never resolve publicly: refused without asking a resolver
// (the test's dial hook would fail the test if one were dialled).
func TestReservedNames(t *testing.T) {
	for _, raw := range []string{"https://cdn.example/media/1.jpg", "http://EXAMPLE./a.png", "http://x.invalid/a.png", "http://a.b.test/a.png"} {
		_, _, err := New(Config{}).Image(t.Context(), raw)
		wantFailure(t, err, geopulse.ENOTFOUND, ReasonUnavailable, false)
	}
}

// TestRedirects follows /hop/N → /hop/N-1 … → /hop/0, which is an image.
func TestRedirects(t *testing.T) {
	png := pngBytes(t, 4, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var n int
		if _, err := fmt.Sscanf(r.URL.Path, "/hop/%d", &n); err != nil {
			http.NotFound(w, r)
		} else if n > 0 {
			http.Redirect(w, r, fmt.Sprintf("/hop/%d", n-1), http.StatusFound)
		} else {
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
		}
	}))
	defer srv.Close()
	tests := []struct {
		name         string
		maxRedirects int
		hops         int
		ok           bool
	}{
		{"default allows 3", 0, 3, true},
		{"default refuses 4", 0, 4, false},
		{"limit 1 allows 1", 1, 1, true},
		{"limit 1 refuses 2", 1, 2, false},
		{"negative allows none", -1, 1, false},
		{"negative still fetches", -1, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := New(Config{AllowNets: loopback, MaxRedirects: tt.maxRedirects})
			_, info, err := f.Image(t.Context(), fmt.Sprintf("%s/hop/%d", srv.URL, tt.hops))
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				if want := srv.URL + "/hop/0"; info.URL != want {
					t.Errorf("info.URL = %q, want %q", info.URL, want)
				}
				return
			}
			wantFailure(t, err, geopulse.EINVALID, ReasonRefusedURL, false)
			if !strings.Contains(geopulse.ErrorMessage(err), "redirects") {
				t.Errorf("message %q does not name the redirect rule", geopulse.ErrorMessage(err))
			}
		})
	}
}

// TestRedirectToRefused: the first hop is a trusted host name, the second
// an address nobody allowed; both are this loopback server, so only the
// per-hop check at dial time tells them apart.
func TestRedirectToRefused(t *testing.T) {
	png := pngBytes(t, 4, 4)
	var target string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/image":
			w.Header().Set("Content-Type", "image/png")
			w.Write(png)
		case "/away":
			http.Redirect(w, r, target, http.StatusFound)
		}
	}))
	defer srv.Close()
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	f := New(Config{AllowHosts: []string{"Media.Example."}})
	f.lookup = func(ctx context.Context, host string) ([]netip.Addr, error) {
		if host == "media.example" {
			return []netip.Addr{netip.MustParseAddr("127.0.0.1")}, nil
		}
		return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	}
	trusted := fmt.Sprintf("http://media.example:%d", port)
	if _, _, err := f.Image(t.Context(), trusted+"/image"); err != nil {
		t.Fatalf("trusted host: %v", err)
	}
	tests := []struct {
		name, target, reason string
	}{
		{"to loopback address", fmt.Sprintf("http://127.0.0.1:%d/image", port), ReasonRefusedAddress},
		{"to localhost", fmt.Sprintf("http://localhost:%d/image", port), ReasonRefusedAddress},
		{"to mapped loopback", fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/image", port), ReasonRefusedAddress},
		{"to file", "file:///etc/passwd", ReasonRefusedURL},
		{"to credentials", fmt.Sprintf("http://u:p@media.example:%d/image", port), ReasonRefusedURL},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target = tt.target
			_, _, err := f.Image(t.Context(), trusted+"/away")
			wantFailure(t, err, geopulse.EINVALID, tt.reason, false)
		})
	}
}

// TestDialChecksSocket proves the Control hook on its own: the same
// loopback listener is refused through an unchecked dial and reached through
// a trusted one.
func TestDialChecksSocket(t *testing.T) {
	srv := serveBytes(t, "image/png", nil)
	addr := srv.Listener.Addr().String()
	f := New(Config{})
	if _, err := f.dialIP(t.Context(), "tcp", addr, false); geopulse.ErrorReason(err) != ReasonRefusedAddress {
		t.Errorf("unchecked dial to %s: err = %v, want a refused address", addr, err)
	}
	conn, err := f.dialIP(t.Context(), "tcp", addr, true)
	if err != nil {
		t.Fatalf("trusted dial: %v", err)
	}
	conn.Close()
	for _, tt := range []struct {
		address string
		allowed bool
	}{
		{"127.0.0.1:80", false},
		{"[::1]:80", false},
		{"[::ffff:169.254.169.254]:80", false},
		{"10.1.2.3:443", false},
		{"[fe80::1%eth0]:80", false},
		{"0.0.0.0:80", false},
		{"not an address", false},
		{"192.0.2.10:80", true}, // public as far as these rules go (documentation range)
		{"[2001:db8::1]:443", true},
	} {
		if err := f.control("tcp", tt.address, nil); (err == nil) != tt.allowed {
			t.Errorf("control(%s) = %v, want allowed=%v", tt.address, err, tt.allowed)
		}
	}
	if err := New(Config{AllowNets: loopback}).control("tcp", "127.0.0.1:80", nil); err != nil {
		t.Errorf("control with loopback allowed: %v", err)
	}
	if err := New(Config{AllowPrivate: true}).control("tcp", "10.1.2.3:80", nil); err != nil {
		t.Errorf("control with AllowPrivate: %v", err)
	}
}

func TestSpecialUse(t *testing.T) {
	for addr, refused := range map[string]bool{
		"127.0.0.1": true, "::1": true, "0.0.0.0": true, "::": true, "0.1.2.3": true,
		"10.255.0.1": true, "172.31.255.255": true, "192.168.0.1": true, "fc00::1": true,
		"169.254.169.254": true, "fe80::abcd": true, "::ffff:10.0.0.1": true, "::ffff:127.0.0.1": true,
		"100.64.0.1": true, "100.127.255.254": true, "224.0.0.251": true, "ff02::1": true,
		"255.255.255.255": true, "198.18.0.1": true, "::127.0.0.1": true, "2002:7f00:1::": true,
		"64:ff9b::a00:1": true, "fec0::1": true,
		"8.8.8.8": false, "172.32.0.1": false, "100.128.0.1": false, "2606:4700:4700::1111": false,
		"::ffff:8.8.8.8": false,
	} {
		if got := specialUse(netip.MustParseAddr(addr)); (got != "") != refused {
			t.Errorf("specialUse(%s) = %q, want refused=%v", addr, got, refused)
		}
	}
}

func TestTooLarge(t *testing.T) {
	t.Run("streamed body", func(t *testing.T) {
		const total = 64 << 20
		var written atomic.Int64
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png") // no Content-Length: chunked
			chunk := make([]byte, 32<<10)
			for written.Load() < total {
				n, err := w.Write(chunk)
				written.Add(int64(n))
				if err != nil {
					return
				}
			}
		}))
		f := New(Config{AllowNets: loopback, MaxBytes: 64 << 10})
		_, _, err := f.Image(t.Context(), srv.URL)
		srv.Close() // waits for the handler to give up
		wantFailure(t, err, geopulse.ETOOLARGE, ReasonTooLarge, false)
		if n := written.Load(); n >= total {
			t.Errorf("server wrote all %d bytes: the body was read to the end", n)
		}
	})
	t.Run("declared length", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "image/png")
			w.Header().Set("Content-Length", "1000000")
			w.Write(pngBomb(1, 1))
		}))
		defer srv.Close()
		_, _, err := New(Config{AllowNets: loopback, MaxBytes: 1000}).Image(t.Context(), srv.URL)
		wantFailure(t, err, geopulse.ETOOLARGE, ReasonTooLarge, false)
	})
	data := pngBytes(t, 16, 16)
	srv := serveBytes(t, "image/png", data)
	t.Run("exactly the limit", func(t *testing.T) {
		if _, _, err := New(Config{AllowNets: loopback, MaxBytes: int64(len(data))}).Image(t.Context(), srv.URL); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("one byte over", func(t *testing.T) {
		_, _, err := New(Config{AllowNets: loopback, MaxBytes: int64(len(data) - 1)}).Image(t.Context(), srv.URL)
		wantFailure(t, err, geopulse.ETOOLARGE, ReasonTooLarge, false)
	})
}

func TestTypes(t *testing.T) {
	png := pngBytes(t, 4, 4)
	html := []byte("<!DOCTYPE html><html><body>not a picture</body></html>")
	gif := []byte("GIF89a\x01\x00\x01\x00\x00\x00\x00;")
	tests := []struct {
		name     string
		declared string // "-" sends no Content-Type at all
		body     []byte
	}{
		{"png declared, html sent", "image/png", html},
		{"html declared, png sent", "text/html", png},
		{"no content type", "-", png},
		{"octet-stream", "application/octet-stream", png},
		{"gif not allowed", "image/gif", gif},
		{"png declared, gif sent", "image/png", gif},
		{"svg", "image/svg+xml", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`)},
		{"garbage content type", "image/png;;;=", png},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if tt.declared == "-" {
					w.Header()["Content-Type"] = nil // stop the server sniffing one
				} else {
					w.Header().Set("Content-Type", tt.declared)
				}
				w.Write(tt.body)
			}))
			defer srv.Close()
			_, _, err := New(Config{AllowNets: loopback}).Image(t.Context(), srv.URL)
			wantFailure(t, err, geopulse.EINVALID, ReasonUnsupportedType, false)
		})
	}
	t.Run("allowed for Bytes but no decoder", func(t *testing.T) {
		srv := serveBytes(t, "image/gif", gif)
		f := New(Config{AllowNets: loopback, AllowedTypes: []string{"image/gif"}})
		if _, _, err := f.Bytes(t.Context(), srv.URL); err != nil {
			t.Fatalf("Bytes: %v", err)
		}
		_, _, err := f.Image(t.Context(), srv.URL)
		wantFailure(t, err, geopulse.EINVALID, ReasonUnsupportedType, false)
	})
}

func TestBadImages(t *testing.T) {
	t.Run("decompression bomb", func(t *testing.T) {
		srv := serveBytes(t, "image/png", pngBomb(100000, 100000))
		_, _, err := New(Config{AllowNets: loopback}).Image(t.Context(), srv.URL)
		wantFailure(t, err, geopulse.ETOOLARGE, ReasonTooLarge, false)
		if !strings.Contains(geopulse.ErrorMessage(err), "100000×100000") {
			t.Errorf("message %q does not give the dimensions", geopulse.ErrorMessage(err))
		}
	})
	t.Run("over a small MaxPixels", func(t *testing.T) {
		srv := serveBytes(t, "image/png", pngBytes(t, 100, 100))
		_, _, err := New(Config{AllowNets: loopback, MaxPixels: 9999}).Image(t.Context(), srv.URL)
		wantFailure(t, err, geopulse.ETOOLARGE, ReasonTooLarge, false)
	})
	t.Run("truncated jpeg", func(t *testing.T) {
		dog := photo(t, "/usr/share/darknet/data/dog.jpg")
		srv := serveBytes(t, "image/jpeg", dog[:len(dog)/2])
		_, _, err := New(Config{AllowNets: loopback}).Image(t.Context(), srv.URL)
		wantFailure(t, err, geopulse.EINVALID, ReasonCorrupt, false)
	})
	t.Run("truncated webp", func(t *testing.T) {
		webp := readFile(t, "testdata/blue-purple-pink.lossy.webp")
		srv := serveBytes(t, "image/webp", webp[:len(webp)-200])
		_, _, err := New(Config{AllowNets: loopback}).Image(t.Context(), srv.URL)
		wantFailure(t, err, geopulse.EINVALID, ReasonCorrupt, false)
	})
}

// stall sends headers and the first bytes of a body, then waits until the
// client goes away or the test ends.
func stall(t *testing.T, sendHeaders bool) *httptest.Server {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if sendHeaders {
			w.Header().Set("Content-Type", "image/png")
			w.Write(pngBytes(t, 4, 4)[:16])
			w.(http.Flusher).Flush()
		}
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(release) }) // runs first: frees the handler
	return srv
}

func TestTimeout(t *testing.T) {
	for _, headers := range []bool{true, false} {
		t.Run(fmt.Sprintf("headers sent %v", headers), func(t *testing.T) {
			srv := stall(t, headers)
			f := New(Config{AllowNets: loopback, Timeout: 50 * time.Millisecond})
			_, _, err := f.Image(t.Context(), srv.URL)
			wantFailure(t, err, geopulse.EINTERNAL, ReasonUnavailable, true)
		})
	}
	t.Run("caller cancels", func(t *testing.T) {
		srv := stall(t, true)
		ctx, cancel := context.WithCancel(t.Context())
		time.AfterFunc(20*time.Millisecond, cancel)
		_, _, err := New(Config{AllowNets: loopback}).Image(ctx, srv.URL)
		if !errors.Is(err, context.Canceled) || Transient(err) {
			t.Errorf("err = %v (transient %v), want context.Canceled, not transient", err, Transient(err))
		}
	})
}

func TestTransient(t *testing.T) {
	png := pngBytes(t, 4, 4)
	statusSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscanf(r.URL.Path, "/%d", &code)
		w.WriteHeader(code)
	}))
	defer statusSrv.Close()
	resetSrv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		w.Header().Set("Content-Length", fmt.Sprint(len(png)))
		w.Write(png[:len(png)/2])
		w.(http.Flusher).Flush()
		conn, _, _ := http.NewResponseController(w).Hijack()
		conn.(*net.TCPConn).SetLinger(0) // RST instead of FIN
		conn.Close()
	}))
	defer resetSrv.Close()
	closed := httptest.NewServer(nil)
	closedURL := closed.URL
	closed.Close()

	tests := []struct {
		name      string
		url       string
		code      string
		transient bool
	}{
		{"500", statusSrv.URL + "/500", geopulse.EINTERNAL, true},
		{"503", statusSrv.URL + "/503", geopulse.EINTERNAL, true},
		{"429", statusSrv.URL + "/429", geopulse.ETOOMANY, true},
		{"408", statusSrv.URL + "/408", geopulse.EINTERNAL, true},
		{"404", statusSrv.URL + "/404", geopulse.ENOTFOUND, false},
		{"410", statusSrv.URL + "/410", geopulse.ENOTFOUND, false},
		{"403", statusSrv.URL + "/403", geopulse.EINVALID, false},
		{"204", statusSrv.URL + "/204", geopulse.EINVALID, false},
		{"connection reset mid-body", resetSrv.URL, geopulse.EINTERNAL, true},
		{"connection refused", closedURL, geopulse.EINTERNAL, true},
		{"refused address", "http://169.254.169.254/", geopulse.EINVALID, false},
		{"bad scheme", "gopher://example.org/", geopulse.EINVALID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f *Fetcher
			if strings.Contains(tt.url, "127.0.0.1") {
				f = New(Config{AllowNets: loopback})
			} else {
				f = New(Config{})
				guardDial(t, f)
			}
			_, _, err := f.Image(t.Context(), tt.url)
			if err == nil {
				t.Fatal("no error")
			}
			if got := geopulse.ErrorCode(err); got != tt.code {
				t.Errorf("code = %q, want %q (err: %v)", got, tt.code, err)
			}
			if got := Transient(err); got != tt.transient {
				t.Errorf("Transient = %v, want %v (err: %v)", got, tt.transient, err)
			}
		})
	}
	for _, err := range []error{nil, errors.New("plain"), geopulse.Errorf(geopulse.EINTERNAL, "x"), context.DeadlineExceeded} {
		if Transient(err) {
			t.Errorf("Transient(%v) = true, want false for an error not from this package", err)
		}
	}
}

// BenchmarkImage fetches and decodes a 768×576 JPEG photo over loopback.
func BenchmarkImage(b *testing.B) {
	data := photo(b, "/usr/share/darknet/data/dog.jpg")
	srv := serveBytes(b, "image/jpeg", data)
	f := New(Config{AllowNets: loopback})
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if _, _, err := f.Image(b.Context(), srv.URL); err != nil {
			b.Fatal(err)
		}
	}
}
