// Package postgres is the server store: it implements geopulse.Store on
// PostgreSQL 15+ with PostGIS 3 (github.com/jackc/pgx/v5, pgxpool) and passes
// the storetest contract suite, so it behaves exactly like the embedded
// DuckDB store. Any number of geopulse processes (api and worker nodes) can
// share one database: the store keeps no cache of its content.
//
// # Schema and migrations
//
// Migrations are embedded from migrations/, numbered like the DuckDB
// store's, applied one transaction each and recorded in schema_migrations.
// Migrate (`geopulse migrate`) applies them under an advisory lock; Open
// refuses a database with pending migrations (ErrStaleSchema) unless
// Options.AutoMigrate is set, and one newer than the binary
// (ErrNewerSchema). Tables live in the first schema of the search_path,
// which the DSN may set (search_path=…), so one database can hold several
// independent stores: the tests take a fresh database from pgtest and a
// schema per store. They run when GEOPULSE_TEST_POSTGRES names a server
// (.ci/run sets it) and skip otherwise.
//
//   - workspaces, api_keys (SHA-256 of the key only), places (a venue's
//     center and radius or a geofence's GeoJSON text, kept byte for byte, the
//     caller's bounding box, and geom, a generated PostGIS MultiPolygon for
//     GIS users: the geofence, or the venue's circle buffered in metres).
//   - posts: one row per post, partitioned by month on taken_at. Columns
//     hold what SQL filters, groups or joins on; everything else is one JSON
//     document, doc, in the DuckDB store's format. geom is a generated
//     PostGIS point with a GiST index. post_keys(id, taken_at) is unique per
//     post across months.
//   - authors (latest card, counts as columns; authors_followers ranks
//     them) and author_stats (one row per change of counts).
//   - post_places(place_id, taken_at, post_id, workspace_id, kind,
//     author_id, expired) and post_tags(place_id, tag, taken_at, post_id,
//     kind): the matches, partitioned by month like posts, with covering
//     indexes, so feeds and analytics are index-only scans that never read
//     posts to select.
//   - post_labels(post_id, taken_at, origin, kind, name, score, model,
//     version, labelled_at): every label of a live post, partitioned by
//     month like posts, keyed by (post_id, taken_at, origin, kind, name):
//     a page reads its posts' labels and analytics joins the selected
//     matches by it. post_labels_name (kind, name, taken_at, post_id)
//     serves the feed's label filter, merged with the match index in feed
//     order. The sentiment is in doc.
//   - gis_places, gis_posts, gis_matches: views for QGIS (docs/GIS.md),
//     without authors, captions or media.
//   - audiences (every version of each saved audience, its criteria as
//     JSON text), author_terms (internal author profiles: recency-weighted
//     terms, recomputed per author by RefreshProfiles from profile_queue),
//     sensitive_categories (the deny list; places.sensitive marks a place
//     by hand) and workspace_settings (privacy floors and noise key).
//
// # Invariants
//
//   - posts.place_ids and post_places hold the same matches, of every
//     workspace, and only of stored places (UpsertPosts drops unknown ids).
//     Queries see only the requested workspace's places: ids of other
//     workspaces drop out of every filter and every returned post.
//   - post_places.workspace_id is its place's workspace; places never move.
//   - post_keys holds exactly one row per post, with its current taken_at.
//   - A post is written once per delivery, idempotently: re-sending it
//     updates its mutable fields and replaces its matches; an expired story
//     keeps its content deleted whatever a source re-sends.
//   - authors' counts equal the author's newest author_stats row.
//   - post_labels rows exist only for stored posts that have not expired,
//     with their post's current taken_at (a re-delivery that moves a post
//     moves its image labels and replaces its text labels).
//   - Times are timestamptz at microsecond precision, sessions run in UTC,
//     and values are truncated on the way in, so what is written reads back
//     equal.
//   - Text that SQL compares (names, categories, groups, key hashes) is
//     valid UTF-8 without NUL: PostgreSQL text cannot hold NUL, so such
//     input is refused with EINVALID. Free text (captions, bios, ids from
//     sources) lives in JSON documents and hashtags in bytea, which hold
//     anything, so posts round-trip exactly as in the embedded store.
//   - Posts at a sensitive place (marked, or of a denied category) of any
//     workspace count in no audience and no profile.
//   - Profile writers (each chunk of RefreshProfiles, the erasure of an
//     author's profile) hold the profile lock, an advisory lock, for their
//     transaction: no two write one author's profile at once, whatever the
//     processes. Queueing an author never waits, and every change a
//     profile reads from queues the authors concerned: labels, expiry,
//     deletions and retention (rows or whole months), a place's category,
//     sensitivity or matches.
//   - Writers lock in one order: the match lock (an advisory lock; batches
//     and story expiry share it, MatchPlace and DeletePlace take it
//     alone), post_keys rows by id, authors rows by id. Two batches never
//     deadlock, and two writers of one post run one after the other.
//
// # Why it looks like this (measured on the 2-core machine; see bench_test.go)
//
//   - Ingest is COPY. New posts are the common case: a batch claims its
//     keys with one INSERT .. ON CONFLICT DO NOTHING over unnest()ed arrays,
//     and everything is then written with COPY (posts, matches, tags, count
//     history). Only re-delivered posts are deleted first, by exact key.
//     Authors are compared by card hash in one read; only new and changed
//     ones are written. Each table's rows are sent in the order of its
//     primary key, so consecutive index inserts land on the same pages
//     (backend CPU per post fell from ~59-65 µs to ~47 µs at 0.2-1M posts
//     on the shared 2-core machine).
//   - Partitions by month: retention is DropMonthsBefore (a DROP TABLE per
//     table and month, no vacuum debt), and a feed of recent posts touches
//     recent, cached partitions. post_keys exists because a partitioned
//     table's unique keys must contain the partition key: it is what makes
//     a post unique across months, and its row lock serialises two writers
//     of one post. The alternative, an index on posts(id) in every month,
//     enforces nothing across months and costs one probe per month: at 10M
//     posts over 4 months, finding 10k re-delivered posts took 13-15 ms
//     through post_keys and 44 ms through the monthly indexes (and it
//     grows with the months kept); for new posts both cost one miss per
//     post in an index of every post (70-140 ms per 10k at 10M, cold).
//   - Reads are index-only scans of the match tables in feed order: a
//     workspace's feed is one range of (workspace_id, taken_at, post_id), a
//     set of places is one range per place merged by LATERAL, and a page of
//     posts is then fetched by (id, taken_at), which prunes partitions at
//     run time. A page's place ids are narrowed to the workspace by a
//     primary-key probe of places per id: the page's size, not the
//     workspace's, sets the cost (an array of a 10,000-place workspace's
//     ids, built per query, made a one-place feed 22 ms instead of 1.7 ms). Statements are prepared once with generic plans: with
//     monthly partitions a custom plan cost as much to plan as to run.
//     Only where the values decide the plan (an area: start from the GiST
//     index or from the places' time order?; which authors to rank) are
//     typed values inlined and the statement planned for them.
//   - Analytics stream the selected matches of post_places and post_tags
//     (two index-only range scans, concurrently) and fold them in Go:
//     distinct posts and authors counted with hash maps measured ~3x
//     faster than PostgreSQL's DISTINCT and GROUP BY over the same ~52k
//     rows (50 places, 90 days, 10M posts). No rollup tables: the
//     contract counts a post once across overlapping places, which
//     per-place rollups cannot do, and the scans meet the targets.
//   - Audiences compile to SQL over post_places and author_terms, planned
//     for their values (ids and times inlined, text from users as
//     parameters); a request's authors are materialised once, in a
//     temporary table of its transaction, for all its statistics. The
//     sensitive places of every workspace are found through two indexes
//     (0.2 ms instead of 13 ms over 10,000 places).
//   - PostGIS is for what it is best at and nothing else: the GiST index on
//     posts.geom gives MatchPlace its candidates and lets an area feed start
//     from the area; the exact shape test stays in Go (the geo package), so
//     the two stores decide every match identically.
//
// # Benchmarks
//
// `geopulse bench -postgres DSN` loads the simulated world into a database
// of its own (CreateDatabase, DropDatabase) and compares the radius feed
// with a hand-written PostGIS ST_DWithin query on geography
// (PostGISRadius, on the index CreateGeographyIndex builds); both return
// the same posts, so the ratio compares how SQL finds them. bench_test.go
// has the per-operation benchmarks.
package postgres
