// Package fetch downloads a post's media for the vision workers and decodes it,
// under limits that make a URL written by a stranger safe to follow.
//
// A media URL comes from a social post, so whoever wrote the post chooses
// where the worker connects and what it decodes. The package therefore holds
// these invariants:
//
//   - Only http and https, never with credentials in the URL, and at most
//     Config.MaxRedirects redirects, each one checked again.
//   - The address actually dialled must be public: loopback, private, link-local
//     (including the cloud metadata address), unspecified, multicast, CGNAT and
//     other special ranges are refused, in their IPv4-mapped forms too, unless
//     Config allows them explicitly. The check runs on the resolved IP at dial
//     time, so DNS rebinding and redirects to internal hosts fail the same way
//     as a literal internal address. Proxies from the environment are ignored.
//   - At most Config.MaxBytes are read and the whole exchange, body included,
//     ends within Config.Timeout.
//   - The declared Content-Type and the type sniffed from the bytes must both
//     be allowed image types; a picture's header dimensions are checked against
//     Config.MaxPixels before any pixel is decoded (decompression bombs).
//   - No bytes are kept once a call returns.
//
// Every failure is a *geopulse.Error whose Reason names the rule that failed;
// Transient tells a worker which ones (timeouts, resets, 5xx, 429) are worth
// retrying.
package fetch
