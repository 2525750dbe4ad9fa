package fetch

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"io"
	"mime"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"time"

	"github.com/geopulse/geopulse"
)

// Defaults used for the zero values of Config.
const (
	DefaultMaxBytes     = 10 << 20
	DefaultTimeout      = 10 * time.Second
	DefaultMaxRedirects = 3
	DefaultMaxPixels    = 40_000_000
	DefaultUserAgent    = "geopulse-vision/1"
)

// DefaultAllowedTypes are the media types accepted when Config.AllowedTypes
// is empty: the ones Image can decode.
var DefaultAllowedTypes = []string{"image/jpeg", "image/png", "image/webp"}

// Config sets the limits of a Fetcher. Every zero value means the default
// named on its field.
type Config struct {
	// MaxBytes is the largest body read; a larger one is refused without
	// reading the rest. Default 10 MiB.
	MaxBytes int64
	// Timeout bounds the whole exchange: DNS, connect, TLS, redirects and
	// reading the body. Default 10 s.
	Timeout time.Duration
	// MaxRedirects is how many redirects are followed. Default 3; a
	// negative value follows none.
	MaxRedirects int
	// MaxPixels is the largest width×height decoded, checked on the header
	// before decoding. Default 40 million.
	MaxPixels int64
	// AllowedTypes are the media types (lower case, no parameters) that
	// both the Content-Type header and the sniffed bytes must have. Default
	// DefaultAllowedTypes. Bytes accepts any listed type; Image decodes
	// only JPEG, PNG and WebP.
	AllowedTypes []string
	// AllowPrivate turns the address rules off entirely. Only for a closed
	// deployment whose media hosts are all internal.
	AllowPrivate bool
	// AllowHosts are host names (exact, case-insensitive) whose addresses
	// are not checked, whatever they resolve to: trust in the name is trust
	// in whoever controls its DNS.
	AllowHosts []string
	// AllowNets are address ranges allowed although not public, e.g.
	// 127.0.0.0/8 for a demo that serves images on loopback.
	AllowNets []netip.Prefix
	// UserAgent is sent with every request. Default DefaultUserAgent.
	UserAgent string
}

// withDefaults returns cfg with every zero value replaced by its default.
func (cfg Config) withDefaults() Config {
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	switch {
	case cfg.MaxRedirects == 0:
		cfg.MaxRedirects = DefaultMaxRedirects
	case cfg.MaxRedirects < 0:
		cfg.MaxRedirects = 0
	}
	if cfg.MaxPixels <= 0 {
		cfg.MaxPixels = DefaultMaxPixels
	}
	if len(cfg.AllowedTypes) == 0 {
		cfg.AllowedTypes = DefaultAllowedTypes
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = DefaultUserAgent
	}
	return cfg
}

// Info describes a fetched media file.
type Info struct {
	// URL is the URL that finally answered, after redirects.
	URL string
	// ContentType is the type sniffed from the bytes, e.g. "image/jpeg".
	ContentType string
	// Size is the number of body bytes read.
	Size int64
	// Width and Height are the picture's size; set by Image only.
	Width, Height int
}

// Fetcher downloads media under the limits of its Config. It is safe for
// concurrent use and reuses connections between calls.
type Fetcher struct {
	cfg    Config
	types  map[string]struct{}
	hosts  map[string]struct{}
	accept string
	client *http.Client

	// Seams for tests: name resolution and the dial of one checked IP.
	lookup func(ctx context.Context, host string) ([]netip.Addr, error)
	dial   func(ctx context.Context, network, address string, trusted bool) (net.Conn, error)
}

// New returns a Fetcher for cfg; see Config for the defaults.
func New(cfg Config) *Fetcher {
	cfg = cfg.withDefaults()
	f := &Fetcher{
		cfg:    cfg,
		types:  make(map[string]struct{}, len(cfg.AllowedTypes)),
		hosts:  make(map[string]struct{}, len(cfg.AllowHosts)),
		accept: strings.Join(cfg.AllowedTypes, ", "),
		lookup: func(ctx context.Context, host string) ([]netip.Addr, error) {
			return net.DefaultResolver.LookupNetIP(ctx, "ip", host)
		},
	}
	f.dial = f.dialIP
	for _, t := range cfg.AllowedTypes {
		f.types[strings.ToLower(t)] = struct{}{}
	}
	for _, h := range cfg.AllowHosts {
		f.hosts[normalizeHost(h)] = struct{}{}
	}
	f.client = &http.Client{
		Transport: &http.Transport{
			Proxy:                  nil, // a proxy would dial for us, past the address rules
			DialContext:            f.dialContext,
			ForceAttemptHTTP2:      true,
			DisableCompression:     true, // images are compressed already; no gzip bombs
			MaxIdleConns:           32,
			MaxIdleConnsPerHost:    4,
			IdleConnTimeout:        30 * time.Second,
			MaxResponseHeaderBytes: 64 << 10,
		},
		CheckRedirect: f.checkRedirect,
	}
	return f
}

// checkURL refuses what may not be requested whatever it resolves to.
func checkURL(u *url.URL) error {
	if u.Scheme != "http" && u.Scheme != "https" {
		return permanent(geopulse.EINVALID, ReasonRefusedURL, nil, "refused media URL: scheme %q is not http or https", u.Scheme)
	}
	if u.User != nil {
		return permanent(geopulse.EINVALID, ReasonRefusedURL, nil, "refused media URL: it carries credentials")
	}
	if u.Hostname() == "" {
		return permanent(geopulse.EINVALID, ReasonRefusedURL, nil, "refused media URL: no host")
	}
	return nil
}

// reservedTLDs are the special-use names that never resolve publicly
// (RFC 2606, RFC 6761); "localhost" is refused by the address rules.
var reservedTLDs = []string{"example", "invalid", "test"}

// reserved returns the reserved name host lies under, or "".
func reserved(host string) string {
	host = normalizeHost(host)
	for _, tld := range reservedTLDs {
		if host == tld || strings.HasSuffix(host, "."+tld) {
			return tld
		}
	}
	return ""
}

func (f *Fetcher) checkRedirect(req *http.Request, via []*http.Request) error {
	if len(via) > f.cfg.MaxRedirects {
		return permanent(geopulse.EINVALID, ReasonRefusedURL, nil, "refused media URL: more than %d redirects", f.cfg.MaxRedirects)
	}
	return checkURL(req.URL)
}

// Bytes downloads the media at rawURL and returns its bytes once the
// declared and sniffed types are allowed and the size is within MaxBytes.
// Errors are *geopulse.Error (see the Reason constants) except when ctx ends
// first, in which case the error wraps ctx's cause.
func (f *Fetcher) Bytes(ctx context.Context, rawURL string) ([]byte, Info, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, Info{}, permanent(geopulse.EINVALID, ReasonRefusedURL, err, "refused media URL: it does not parse")
	}
	if err := checkURL(u); err != nil {
		return nil, Info{}, err
	}
	host := u.Hostname()

	reqCtx, cancel := context.WithTimeout(ctx, f.cfg.Timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, Info{}, permanent(geopulse.EINVALID, ReasonRefusedURL, err, "refused media URL: it does not parse")
	}
	req.Header.Set("User-Agent", f.cfg.UserAgent)
	req.Header.Set("Accept", f.accept)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, Info{}, f.classify(ctx, reqCtx, host, err)
	}
	defer resp.Body.Close()
	info := Info{URL: resp.Request.URL.String()}
	host = resp.Request.URL.Hostname()

	if resp.StatusCode != http.StatusOK {
		return nil, info, statusError(host, resp.Status, resp.StatusCode)
	}
	declared, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if _, ok := f.types[declared]; err != nil || !ok {
		return nil, info, permanent(geopulse.EINVALID, ReasonUnsupportedType, nil,
			"media from %s declares type %q; allowed: %s", host, resp.Header.Get("Content-Type"), f.accept)
	}
	if resp.ContentLength > f.cfg.MaxBytes {
		return nil, info, permanent(geopulse.ETOOLARGE, ReasonTooLarge, nil,
			"media from %s declares %d bytes; the limit is %d", host, resp.ContentLength, f.cfg.MaxBytes)
	}

	var buf bytes.Buffer
	if resp.ContentLength > 0 {
		buf.Grow(int(resp.ContentLength))
	}
	// One byte past the limit tells "exactly MaxBytes" from "more".
	n, err := buf.ReadFrom(io.LimitReader(resp.Body, f.cfg.MaxBytes+1))
	if err != nil {
		return nil, info, f.classify(ctx, reqCtx, host, err)
	}
	if n > f.cfg.MaxBytes {
		return nil, info, permanent(geopulse.ETOOLARGE, ReasonTooLarge, nil,
			"media from %s is larger than the limit of %d bytes", host, f.cfg.MaxBytes)
	}
	data := buf.Bytes()
	sniffed, _, _ := mime.ParseMediaType(http.DetectContentType(data))
	if _, ok := f.types[sniffed]; !ok {
		return nil, info, permanent(geopulse.EINVALID, ReasonUnsupportedType, nil,
			"media from %s declares %s but its bytes look like %s", host, declared, sniffed)
	}
	info.ContentType = sniffed
	info.Size = n
	return data, info, nil
}

// Image downloads the picture at rawURL under the same rules as Bytes and
// decodes it after checking its header dimensions against MaxPixels. The
// decoded image is the only thing that outlives the call.
func (f *Fetcher) Image(ctx context.Context, rawURL string) (image.Image, Info, error) {
	data, info, err := f.Bytes(ctx, rawURL)
	if err != nil {
		return nil, info, err
	}
	img, err := decode(data, info.ContentType, f.cfg.MaxPixels)
	if err != nil {
		return nil, info, fmt.Errorf("decode media from %s: %w", hostOf(info.URL), err)
	}
	info.Width, info.Height = img.Bounds().Dx(), img.Bounds().Dy()
	return img, info, nil
}

func hostOf(rawURL string) string {
	if u, err := url.Parse(rawURL); err == nil {
		return u.Hostname()
	}
	return ""
}
