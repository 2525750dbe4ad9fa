package fetch

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/geopulse/geopulse"
)

// Reasons set in geopulse.Error.Reason, so that a worker can count failures
// by rule without parsing messages.
const (
	// ReasonRefusedURL: a scheme other than http/https, credentials in the
	// URL, a malformed URL or too many redirects.
	ReasonRefusedURL = "refused_url"
	// ReasonRefusedAddress: the host resolves only to addresses that are not
	// public (loopback, private, link-local, metadata …) and not allowed.
	ReasonRefusedAddress = "refused_address"
	// ReasonUnsupportedType: the declared or sniffed type is not allowed, or
	// Image has no decoder for it.
	ReasonUnsupportedType = "unsupported_type"
	// ReasonTooLarge: more than MaxBytes, or more than MaxPixels.
	ReasonTooLarge = geopulse.ReasonTooLarge
	// ReasonCorrupt: the bytes are of an allowed type but do not decode.
	ReasonCorrupt = "corrupt_image"
	// ReasonHTTPStatus: the server answered with a status other than 200.
	ReasonHTTPStatus = "http_status"
	// ReasonUnavailable: the host does not exist, could not be reached or
	// did not answer in time; transient except for a name that does not
	// exist.
	ReasonUnavailable = "unavailable"
)

// failure pairs the user-safe *geopulse.Error with the underlying cause, kept
// for logs and errors.Is, and with whether a retry may succeed.
type failure struct {
	err       *geopulse.Error
	cause     error
	transient bool
}

func (f *failure) Error() string {
	if f.cause == nil {
		return f.err.Error()
	}
	return f.err.Error() + ": " + f.cause.Error()
}

func (f *failure) Unwrap() []error {
	if f.cause == nil {
		return []error{f.err}
	}
	return []error{f.err, f.cause}
}

// Transient reports whether err is a failure that may go away on its own
// (a timeout, a reset connection, a 5xx, 408 or 429 answer), so a worker
// retries only those. Refused URLs, addresses and types, oversized or corrupt
// media, other 4xx answers and a cancelled caller context are not transient.
func Transient(err error) bool {
	var f *failure
	return errors.As(err, &f) && f.transient
}

func permanent(code, reason string, cause error, format string, args ...any) error {
	return &failure{err: &geopulse.Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}, cause: cause}
}

func transient(code, reason string, cause error, format string, args ...any) error {
	return &failure{err: &geopulse.Error{Code: code, Reason: reason, Message: fmt.Sprintf(format, args...)}, cause: cause, transient: true}
}

// classify turns an error from the transport or from reading the body into a
// failure. ctx is the caller's context, reqCtx the one bounded by Timeout.
func (f *Fetcher) classify(ctx, reqCtx context.Context, host string, err error) error {
	var fl *failure
	if errors.As(err, &fl) {
		return fl
	}
	if ctx.Err() != nil {
		// The caller gave up (shutdown, its own deadline): its decision, not
		// the host's fault, so neither a failure of the media nor a retry.
		return fmt.Errorf("fetch media from %s: %w", host, context.Cause(ctx))
	}
	if reqCtx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return transient(geopulse.EINTERNAL, ReasonUnavailable, err, "media host %s did not answer within %s", host, f.cfg.Timeout)
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
		return permanent(geopulse.ENOTFOUND, ReasonUnavailable, err, "media host %s does not exist", host)
	}
	var (
		verifyErr   *tls.CertificateVerificationError
		unknownErr  x509.UnknownAuthorityError
		hostnameErr x509.HostnameError
		invalidErr  x509.CertificateInvalidError
	)
	if errors.As(err, &verifyErr) || errors.As(err, &unknownErr) || errors.As(err, &hostnameErr) || errors.As(err, &invalidErr) {
		return permanent(geopulse.EINVALID, ReasonRefusedURL, err, "media host %s has an untrusted TLS certificate", host)
	}
	return transient(geopulse.EINTERNAL, ReasonUnavailable, err, "media host %s could not be reached", host)
}

// statusError maps a non-200 answer: gone is ENOTFOUND, overload and server
// errors are transient, anything else is the URL's fault.
func statusError(host, status string, code int) error {
	switch {
	case code == 404 || code == 410:
		return permanent(geopulse.ENOTFOUND, ReasonHTTPStatus, nil, "media host %s answered %s", host, status)
	case code == 429:
		return transient(geopulse.ETOOMANY, ReasonHTTPStatus, nil, "media host %s answered %s", host, status)
	case code == 408 || code == 425 || code >= 500:
		return transient(geopulse.EINTERNAL, ReasonHTTPStatus, nil, "media host %s answered %s", host, status)
	default:
		return permanent(geopulse.EINVALID, ReasonHTTPStatus, nil, "media host %s answered %s", host, status)
	}
}
