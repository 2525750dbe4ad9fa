// Package text extracts structure from the words of a post: hashtags and
// mentions now, language, sentiment and brands as they arrive.
//
// It is pure (no I/O) and allocation-conscious, because it runs on every post
// in the ingest hot path.
package text
