// Package interest maps what a post shows and says to the interests of a
// small, versioned taxonomy (food, coffee & drinks, pets, travel …), the
// unit audiences are built from.
//
// The taxonomy is our own JSON (taxonomy.json, embedded). Each interest
// lists its signals: COCO detector classes, hashtags, caption keywords and
// OpenStreetMap preset ids (for a post's place and for the category of a
// brand it names). Changing what an interest means bumps the version, which
// every label carries, so labels from different taxonomies are never mixed
// unknowingly.
//
// Pure and read-only after construction: safe for concurrent use on the
// ingest hot path.
package interest
