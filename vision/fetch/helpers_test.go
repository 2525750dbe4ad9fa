package fetch

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"testing"

	"github.com/geopulse/geopulse"
)

var loopback = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}

// photo reads a test photo shipped by a Debian package; CI installs them, so
// there a missing one fails (GEOPULSE_ML_REQUIRED, as for the models).
func photo(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && os.Getenv("GEOPULSE_ML_REQUIRED") == "" {
		t.Skipf("%v; install the darknet and python3-skimage packages", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func gradient(w, h int) *image.RGBA {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), uint8(x + y), 255})
		}
	}
	return img
}

func pngBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := png.Encode(&buf, gradient(w, h)); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func jpegBytes(t testing.TB, w, h int) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, gradient(w, h), nil); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pngBomb is a valid PNG header claiming w×h pixels followed by a scrap of
// IDAT: decoding it for real would allocate w×h×4 bytes.
func pngBomb(w, h uint32) []byte {
	chunk := func(typ string, data []byte) []byte {
		var b []byte
		b = binary.BigEndian.AppendUint32(b, uint32(len(data)))
		b = append(b, typ...)
		b = append(b, data...)
		return binary.BigEndian.AppendUint32(b, crc32.ChecksumIEEE(append([]byte(typ), data...)))
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, 8, 6, 0, 0, 0) // 8-bit RGBA, deflate, no filter, no interlace
	out := []byte("\x89PNG\r\n\x1a\n")
	out = append(out, chunk("IHDR", ihdr)...)
	out = append(out, chunk("IDAT", []byte{0x78, 0x9c, 0x63, 0x60})...)
	return append(out, chunk("IEND", nil)...)
}

// serveBytes serves data under contentType at every path.
func serveBytes(t testing.TB, contentType string, data []byte) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.Write(data)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// wantFailure checks that err carries code and reason and is (not) transient.
func wantFailure(t testing.TB, err error, code, reason string, isTransient bool) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want code=%s reason=%s", code, reason)
	}
	if got := geopulse.ErrorCode(err); got != code {
		t.Errorf("code = %q, want %q (err: %v)", got, code, err)
	}
	if got := geopulse.ErrorReason(err); got != reason {
		t.Errorf("reason = %q, want %q (err: %v)", got, reason, err)
	}
	if got := Transient(err); got != isTransient {
		t.Errorf("Transient = %v, want %v (err: %v)", got, isTransient, err)
	}
}
