package fetch

import (
	"errors"
	"image"
	"io"
	"testing"

	"github.com/geopulse/geopulse"
)

// FuzzImage feeds arbitrary bytes to every decoder through the same header
// check Image uses. codec.decode has no recover, so a decoder panic is a
// crash here even though Image would turn it into an error.
func FuzzImage(f *testing.F) {
	f.Add(pngBytes(f, 3, 2))
	f.Add(jpegBytes(f, 9, 7))
	f.Add(pngBomb(100000, 100000))
	f.Add(readFile(f, "testdata/blue-purple-pink.lossy.webp"))
	f.Add(readFile(f, "testdata/blue-purple-pink.lossless.webp"))
	f.Add([]byte("RIFF\x00\x00\x00\x00WEBPVP8X"))
	// The budget keeps each run small: an allowed picture is really decoded.
	const maxPixels = 1 << 16
	f.Fuzz(func(t *testing.T, data []byte) {
		for typ, c := range codecs {
			img, err := c.decode(data, typ, maxPixels)
			if err != nil {
				var ge *geopulse.Error
				if !errors.As(err, &ge) || Transient(err) {
					t.Fatalf("%s: error %v is not a permanent *geopulse.Error", typ, err)
				}
				continue
			}
			if b := img.Bounds(); b.Empty() || int64(b.Dx())*int64(b.Dy()) > maxPixels {
				t.Fatalf("%s: decoded bounds %v outside the budget", typ, b)
			}
		}
	})
}

func TestDecodeRecovers(t *testing.T) {
	boom := codec{
		config: func(io.Reader) (image.Config, error) { return image.Config{Width: 1, Height: 1}, nil },
		image:  func(io.Reader) (image.Image, error) { panic("boom") },
	}
	_, err := boom.safeDecode(nil, "image/x-test", 10)
	wantFailure(t, err, geopulse.EINVALID, ReasonCorrupt, false)
}
