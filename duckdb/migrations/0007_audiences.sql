-- 0007: audiences, author profiles and sensitive places.

-- Every version of every saved audience; the highest version is current.
CREATE SEQUENCE audiences_id_seq START 1;
CREATE TABLE audiences (
	id           BIGINT NOT NULL,
	version      INTEGER NOT NULL,
	workspace_id BIGINT NOT NULL,
	name         VARCHAR NOT NULL,
	criteria     VARCHAR NOT NULL,
	created_at   TIMESTAMP NOT NULL,
	created_by   VARCHAR NOT NULL,
	PRIMARY KEY (id, version)
);

-- Author profiles, internal only: one row per author, kind and term with
-- its recency-weighted score at updated_at (see geopulse.ProfileTerm).
-- Recomputed per author from the posts (never incremented), so that a
-- deleted post or an erased author leaves nothing behind; no index, like
-- the match tables: a refresh deletes and appends whole authors.
CREATE TABLE author_terms (
	author_id  BIGINT,
	kind       VARCHAR,
	term       VARCHAR,
	score      DOUBLE,
	posts      BIGINT,
	last_at    TIMESTAMP,
	updated_at TIMESTAMP
);

-- Authors whose profile is stale (new posts, labels, deletions): a queue
-- the profile refresher drains. seq comes from profile_queue_seq, taken by
-- the writer connection, whose transactions commit one at a time: a
-- refresh that read the queue up to seq S removes only rows up to S, and
-- an author queued again meanwhile stays queued.
CREATE SEQUENCE profile_queue_seq START 1;
CREATE TABLE profile_queue (
	author_id BIGINT NOT NULL,
	seq       BIGINT NOT NULL
);
-- Authors stored before profiles existed: the profiler builds theirs.
INSERT INTO profile_queue SELECT id, nextval('profile_queue_seq') FROM authors;

-- A refresh computes the new rows of author_terms here, on a connection of
-- its own and outside the writer's lock (the reading is what costs), then
-- swaps them in under the lock: profile_stage_ids holds the authors
-- refreshed, profile_stage their rows.
CREATE TABLE profile_stage_ids (
	author_id BIGINT
);
CREATE TABLE profile_stage (
	author_id  BIGINT,
	kind       VARCHAR,
	term       VARCHAR,
	score      DOUBLE,
	posts      BIGINT,
	last_at    TIMESTAMP,
	updated_at TIMESTAMP
);

-- Sensitive places: a place is sensitive when it is marked so (an
-- explicit area) or its category is on the deny list below. Posts at a
-- sensitive place (of any workspace) never reach profiles or audiences.
ALTER TABLE places ADD COLUMN sensitive BOOLEAN DEFAULT false;
-- An entry matches a category equal to it or, for an OSM key alone
-- ("healthcare"), any value of that key. The defaults: health care,
-- places of worship, shelters and social facilities, political and union
-- venues. Operators edit the list (geopulse admin sensitive).
CREATE TABLE sensitive_categories (
	category VARCHAR PRIMARY KEY
);
INSERT INTO sensitive_categories VALUES
	('amenity=clinic'), ('amenity=dentist'), ('amenity=doctors'), ('amenity=hospital'),
	('amenity=place_of_worship'), ('amenity=social_facility'), ('amenity=refugee_site'),
	('building=church'), ('building=mosque'), ('building=synagogue'), ('building=temple'),
	('healthcare'), ('office=political_party'), ('office=union'), ('social_facility'),
	('clinic'), ('hospital'), ('place_of_worship'), ('church'), ('mosque'), ('synagogue'),
	('temple'), ('shelter'), ('political_party'), ('union');

-- Each workspace's privacy settings (geopulse.PrivacySettings, as JSON).
CREATE TABLE workspace_settings (
	workspace_id BIGINT PRIMARY KEY,
	privacy      VARCHAR NOT NULL
);
