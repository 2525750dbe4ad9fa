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

-- Authors whose profile is stale (new posts, deletions): a queue the
-- profile refresher drains.
CREATE TABLE profile_queue (
	author_id BIGINT NOT NULL
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
