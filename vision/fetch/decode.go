package fetch

import (
	"bytes"
	"fmt"
	"image"
	"image/jpeg"
	"image/png"
	"io"

	"golang.org/x/image/webp"

	"github.com/geopulse/geopulse"
)

type codec struct {
	config func(io.Reader) (image.Config, error)
	image  func(io.Reader) (image.Image, error)
}

// codecs are called directly rather than through image.Decode so that only
// these formats are ever parsed, whatever else the binary registers.
var codecs = map[string]codec{
	"image/jpeg": {jpeg.DecodeConfig, jpeg.Decode},
	"image/png":  {png.DecodeConfig, png.Decode},
	"image/webp": {webp.DecodeConfig, webp.Decode},
}

// decode decodes data of media type typ.
func decode(data []byte, typ string, maxPixels int64) (image.Image, error) {
	c, ok := codecs[typ]
	if !ok {
		return nil, permanent(geopulse.EINVALID, ReasonUnsupportedType, nil, "no decoder for %s", typ)
	}
	return c.safeDecode(data, typ, maxPixels)
}

// safeDecode turns a decoder panic into a corrupt-image error: the decoders
// are third-party code fed by strangers.
func (c codec) safeDecode(data []byte, typ string, maxPixels int64) (img image.Image, err error) {
	defer func() {
		if r := recover(); r != nil {
			img, err = nil, permanent(geopulse.EINVALID, ReasonCorrupt, fmt.Errorf("decoder panic: %v", r), "corrupt %s", typ)
		}
	}()
	return c.decode(data, typ, maxPixels)
}

// decode reads the header first and decodes only a picture of at most
// maxPixels, so a small file cannot make the decoder allocate gigabytes.
func (c codec) decode(data []byte, typ string, maxPixels int64) (image.Image, error) {
	cfg, err := c.config(bytes.NewReader(data))
	if err != nil {
		return nil, permanent(geopulse.EINVALID, ReasonCorrupt, err, "corrupt %s header", typ)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 {
		return nil, permanent(geopulse.EINVALID, ReasonCorrupt, nil, "%s header declares %d×%d pixels", typ, cfg.Width, cfg.Height)
	}
	if px := int64(cfg.Width) * int64(cfg.Height); px > maxPixels {
		return nil, permanent(geopulse.ETOOLARGE, ReasonTooLarge, nil,
			"%s of %d×%d pixels is larger than the limit of %d pixels", typ, cfg.Width, cfg.Height, maxPixels)
	}
	img, err := c.image(bytes.NewReader(data))
	if err != nil {
		return nil, permanent(geopulse.EINVALID, ReasonCorrupt, err, "corrupt %s", typ)
	}
	if b := img.Bounds(); b.Dx() != cfg.Width || b.Dy() != cfg.Height {
		return nil, permanent(geopulse.EINVALID, ReasonCorrupt, nil,
			"%s decodes to %d×%d pixels but its header says %d×%d", typ, b.Dx(), b.Dy(), cfg.Width, cfg.Height)
	}
	return img, nil
}
