// Package text extracts structure from the words of a post: hashtags and
// mentions, language, sentiment, brands, place categories, and (through
// package interest) interests.
//
// Reference data (AFINN-165, the name-suggestion index, the OSM presets,
// word-frequency lists) is read once by Load from <ml-assets>/text; after
// that everything is pure (no I/O) and allocation-conscious, because
// Analyzer.Analyze runs on every post in the ingest hot path: one pass of
// tokenising per text, pooled scratch memory, map lookups on substrings.
// The standalone helpers (Lexicon.Score, Languages.Detect, Brands.Find) are
// for tools and tests and allocate more. Methods and measured accuracy are
// in docs/TEXT.md.
package text
