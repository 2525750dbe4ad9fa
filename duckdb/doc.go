// Package duckdb is the embedded store: it implements geopulse.Store on one
// DuckDB file (github.com/duckdb/duckdb-go/v2, cgo) and passes the storetest
// contract suite. Open applies the numbered migrations embedded from
// migrations/ (one transaction each, recorded in schema_migrations) and
// refuses a file whose schema is newer than the binary.
//
// # Schema
//
//   - workspaces, api_keys (SHA-256 of the key only), places (a venue's
//     center and radius or a geofence's GeoJSON text, kept byte for byte,
//     and the bounding box the caller computed).
//   - posts: one row per post, keyed by geopulse.PostID. The whole post
//     (but its author card and matches) is one JSON document, doc; what SQL
//     filters or joins on (kind, author, taken_at, position, expiry) is also
//     a column, written with doc. place_ids (the post's places, of every
//     workspace, as a comma-separated string) and expired are columns only.
//   - authors: the latest card, keyed by geopulse.AuthorID, as one JSON
//     document, card, plus the columns SQL orders and filters on (counts,
//     private) and card_hash, which tells changed cards apart. author_stats
//     keeps a row each time an author's counts change.
//   - post_places(place_id, post_id, taken_at, kind, author_id, expired,
//     multi): the matches, with what the feed and the analytics select,
//     group and sort on, so neither touches posts to select.
//     post_tags(place_id, post_id, taken_at, kind, tag, multi) holds one row
//     per match and distinct hashtag of a live post, for hashtag search and
//     top hashtags.
//   - post_labels(post_id, taken_at, origin, kind, name, score, model,
//     version, labelled_at): one row per label of a live post, of either
//     origin, what each origin wrote (profiles, access reports, and the
//     source of place_labels). A page of posts never reads it (it has no
//     index): the text labels and the sentiment are in doc, the image
//     labels in posts.image_labels, which the upsert of a re-delivered post
//     leaves alone.
//     place_labels(place_id, post_id, taken_at, kind, label_kind, label,
//     multi) holds one row per match and distinct label (object, brand,
//     interest) of a live post, like post_tags, for the feed's label
//     filters and the label aggregates: new posts append theirs, and every
//     other change (image labels, re-delivery, backfill) derives them
//     again from post_labels and post_places.
//
// # Invariants
//
//   - posts.place_ids and post_places hold the same matches, of every
//     workspace. Queries see only the requested workspace's places: ids of
//     other workspaces drop out of every filter and every returned post.
//   - A post is written once per delivery, idempotently: re-sending it
//     updates its mutable fields and replaces its matches; an expired story
//     keeps its content deleted whatever a source re-sends.
//   - authors' counts equal the author's newest author_stats row.
//   - post_labels holds exactly the labels of doc and image_labels, with
//     the post's taken_at, and only for posts that exist and have not
//     expired. Posts without labels write no post_labels rows, and
//     ReplaceLabels deletes rows only when the origin had some.
//   - A match row's multi flag is true whenever its post has more than one
//     match (it may stay true after matches go): aggregates trust rows
//     without it to be the only row of their post.
//   - Times are TIMESTAMP holding UTC at microsecond precision; values are
//     truncated on the way in, so a post written and read back is equal.
//   - All writes run on one connection under a mutex (DuckDB has a single
//     writer anyway); reads use the pool concurrently.
//
// # Why it looks like this (measured on the 2-core machine; see bench_test.go)
//
//   - Ingest appends. A batch is first appended straight into posts and the
//     match tables with the Appender; the primary key fails the transaction
//     if a post already exists, and only then is the batch merged through a
//     staging table with INSERT .. ON CONFLICT .. RETURNING (re-deliveries
//     are rare and pay for a scan of the match tables). Authors are compared
//     by a card hash, and only new or changed cards are deleted and appended
//     again: DuckDB updates per column, and updating every card of a batch
//     was ~10x slower than the rest of the batch. The writer caches each
//     author's stored hash and counts (bounded, ~70 MB at most), so a batch
//     looks up in SQL only authors it has not seen, and decides the
//     author_stats rows in Go; each batch compares the row count and the
//     XOR of the hashes of authors with what the cache expects, which
//     catches any other write to authors (an erasure) and drops the cache.
//   - Group commit: UpsertPosts calls that wait for the writer are written
//     together, up to 50,000 posts, in one transaction, so concurrent
//     pipeline workers share a transaction's fixed cost (statements, the
//     WAL's fsync). A failed group fails each of its calls.
//   - Checkpoints use DuckDB's current storage format: in the default
//     (v1.0.0-compatible) one, each checkpoint converts every whole index
//     first, which made ingest slow down as the store grew.
//     Appending ten string and list columns per post cost ~3x one JSON
//     string (each string is a cgo call), and a page of posts fetched by key
//     pays per column and row (17 columns: ~2x the time of 4), hence doc
//     and card.
//   - Reads go through the match tables. DuckDB keeps rows in insertion
//     order and skips row groups by min/max zonemaps. Ingest arrives roughly
//     in time order, so a feed query (ORDER BY taken_at DESC LIMIT n, LIMIT
//     inlined) reads only the newest row groups; Compact then rewrites the
//     match tables sorted by (place_id, taken_at), so a query for a few
//     places reads a few row groups, plus the unsorted tail appended since.
//     Writes compact automatically when the tail reaches
//     Options.CompactMinRows and a quarter of the sorted part, which bounds
//     the rewrite cost per ingested row. That compaction sorts a snapshot
//     in the background while writes go on, then, under the write lock,
//     copies again the rows of the posts written since and swaps the tables
//     (compact.go): at 1M posts the HTTP intake's request p99 fell from
//     1.5 s to 0.22 s; at 10M the sort alone takes ~13 s. Times, ids and
//     kinds are inlined into queries as literals (never user text) because
//     zonemaps prune only against constants.
//   - A page of posts is one statement: candidate ids from a match table,
//     then posts and authors joined from that small set, which DuckDB turns
//     into primary-key lookups (dynamic_or_filter_threshold is raised to
//     maxCandidates for this). An "id IN (list)" joined to another table, or
//     any join from more keys, scans the whole table instead.
//   - Analytics run five statements concurrently: counts by (hour, kind),
//     summed in Go into volume, hour of week and total (a post lies in one
//     bucket); places; hashtags from post_tags; authors; labels from
//     place_labels (joining post_labels to the selection instead scanned
//     every label row: 55 ms at 10M posts, and 1.5 s when DuckDB built the
//     join from post_labels; place_labels: 11-16 ms).
//     count(DISTINCT post_id) runs only on multi rows, which halved the
//     aggregates' cost. Authors are ranked on (id, followers,
//     private) through a semi-join, so that authors is the probe side of
//     the hash join (as its build side it cost ~60 ms at 1M authors), then
//     the winners' cards are fetched by key.
//   - There is no index on the match tables: ART inserts slowed ingest, and
//     DuckDB uses an ART only for single-column equality, which neither the
//     feed (place and time range) nor the analytics (many places) can use.
//   - MatchPlace streams the posts in the box from one scan and keeps the
//     matches in Go; the place_ids of posts that gain or lose the place are
//     computed in Go and written through a staging table (a string column
//     is updated in place; a LIST column was rewritten row by row, ~20x
//     slower), and the new match rows are appended.
//   - Known costs: the unsorted tail is scanned by every query (the feed
//     reads the newest days of it), ranking authors scans the authors table
//     (~15-35 ms at 650k authors), and a compaction during which a place
//     is edited or deleted, or retention runs, sorts again under the lock
//     (~13 s at 10M posts), as Compact does.
package duckdb
