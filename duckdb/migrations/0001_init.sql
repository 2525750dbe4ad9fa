-- 0001: the initial schema. Never edit once released; add 0002_*.sql instead.
-- Times are TIMESTAMP (no zone) holding UTC, microsecond precision.

CREATE SEQUENCE workspaces_id_seq START 1;
CREATE TABLE workspaces (
	id         BIGINT PRIMARY KEY DEFAULT nextval('workspaces_id_seq'),
	name       VARCHAR NOT NULL UNIQUE,
	created_at TIMESTAMP NOT NULL
);

-- Only the SHA-256 of a key is ever stored.
CREATE TABLE api_keys (
	key_hash     VARCHAR PRIMARY KEY,
	workspace_id BIGINT NOT NULL,
	created_at   TIMESTAMP NOT NULL
);

CREATE SEQUENCE places_id_seq START 1;
-- A venue has center_lat/center_lon/radius_m, a geofence has geometry (the
-- caller's GeoJSON text, kept byte for byte); the other shape is NULL.
CREATE TABLE places (
	id           BIGINT PRIMARY KEY DEFAULT nextval('places_id_seq'),
	workspace_id BIGINT NOT NULL,
	name         VARCHAR NOT NULL,
	category     VARCHAR NOT NULL,
	brand        VARCHAR NOT NULL,
	groups       VARCHAR[] NOT NULL,
	center_lat   DOUBLE,
	center_lon   DOUBLE,
	radius_m     DOUBLE NOT NULL,
	geometry     VARCHAR,
	min_lat      DOUBLE NOT NULL,
	min_lon      DOUBLE NOT NULL,
	max_lat      DOUBLE NOT NULL,
	max_lon      DOUBLE NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	updated_at   TIMESTAMP NOT NULL
);

-- The latest public card of each author: the whole card is one JSON
-- document, card; what SQL orders and filters on (counts, private) is also
-- a column. followers/following/posts_count always equal the author's
-- newest author_stats row. card_hash digests the card, so a batch finds
-- changed authors by comparing one column; changed authors are deleted and
-- re-inserted (DuckDB's UPDATE is per column and was slow on this table).
CREATE TABLE authors (
	id          BIGINT PRIMARY KEY,
	followers   BIGINT NOT NULL,
	following   BIGINT NOT NULL,
	posts_count BIGINT NOT NULL,
	private     BOOLEAN NOT NULL,
	updated_at  TIMESTAMP NOT NULL,
	card_hash   BIGINT NOT NULL,
	card        VARCHAR NOT NULL
);

-- One row each time an author's counts change.
CREATE TABLE author_stats (
	author_id   BIGINT NOT NULL,
	observed_at TIMESTAMP NOT NULL,
	followers   BIGINT NOT NULL,
	following   BIGINT NOT NULL,
	posts_count BIGINT NOT NULL
);
CREATE INDEX author_stats_author_id ON author_stats (author_id);

-- One row per post. The whole post (but its author card and matches) is
-- one JSON document, doc; what SQL filters or joins on is also a column,
-- written together with doc. A page of posts is fetched by primary key and
-- pays per column and row, and appending ten string and list columns per
-- post measured ~3x slower than one string. Hashtags are searched through
-- post_tags; DuckDB's json functions read doc for ad-hoc SQL. place_ids
-- mirrors post_places (every workspace's places, as sorted decimal ids
-- joined by commas: DuckDB rewrites a row to UPDATE a LIST, which made
-- backfilling a place ~20x slower than updating a string), so a page of
-- posts gets its matches without touching post_places. expired and
-- place_ids are only columns. rev counts re-deliveries, which tells
-- UpsertPosts which posts existed.
CREATE TABLE posts (
	id          BIGINT PRIMARY KEY,
	kind        VARCHAR NOT NULL,
	author_id   BIGINT NOT NULL,
	taken_at    TIMESTAMP NOT NULL,
	lat         DOUBLE NOT NULL,
	lon         DOUBLE NOT NULL,
	accuracy_m  DOUBLE NOT NULL,
	expires_at  TIMESTAMP,
	expired     BOOLEAN NOT NULL,
	place_ids   VARCHAR NOT NULL,
	doc         VARCHAR NOT NULL,
	rev         INTEGER NOT NULL DEFAULT 0
);

-- Matches, with what the feed and the analytics filter, group and sort on,
-- so neither reads posts to select. multi is true whenever the post has more
-- than one match (it may stay true after matches go): only such rows can
-- repeat a post within a selection of places, so aggregates count the other
-- rows with count(*) and run the costly count(DISTINCT post_id) on these
-- alone. No constraints or indexes, on purpose: compaction rebuilds these
-- two tables sorted by (place_id, taken_at) with CREATE TABLE AS, which
-- keeps column types only.
CREATE TABLE post_places (
	place_id  BIGINT,
	post_id   BIGINT,
	taken_at  TIMESTAMP,
	kind      VARCHAR,
	author_id BIGINT,
	expired   BOOLEAN,
	multi     BOOLEAN
);

-- One row per match and distinct hashtag of a live post.
CREATE TABLE post_tags (
	place_id BIGINT,
	post_id  BIGINT,
	taken_at TIMESTAMP,
	kind     VARCHAR,
	tag      VARCHAR,
	multi    BOOLEAN
);

-- Small key/value state of the store itself (e.g. compaction watermarks).
CREATE TABLE store_state (
	key   VARCHAR PRIMARY KEY,
	value BIGINT NOT NULL
);
