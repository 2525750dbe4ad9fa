-- 0007: audiences, author profiles and sensitive places.

-- Every version of every saved audience; the highest version is current.
-- criteria is the JSON text as saved (text, not jsonb: jsonb would reorder
-- its keys, and the canonical key is the text).
CREATE SEQUENCE audiences_id_seq;
CREATE TABLE audiences (
	id           bigint NOT NULL,
	version      integer NOT NULL,
	workspace_id bigint NOT NULL,
	name         text NOT NULL,
	criteria     text NOT NULL,
	created_at   timestamptz NOT NULL,
	created_by   text NOT NULL,
	PRIMARY KEY (id, version)
);
CREATE INDEX audiences_workspace ON audiences (workspace_id, id, version);

-- Author profiles, internal only: one row per author, kind and term with
-- its recency-weighted score at updated_at (see geopulse.ProfileTerm).
-- Recomputed per author from the posts (never incremented), so that a
-- deleted post or an erased author leaves nothing behind. The primary key
-- serves a refresh (delete an author's rows), AuthorProfile and the
-- statistics (an audience's rows); it also makes two refreshes of one
-- author that overlapped fail loudly rather than double its terms (they
-- are serialised: RefreshProfiles). author_terms_term serves criteria
-- (the authors having a term, index-only), which only ask for these
-- kinds: hours of the week and categories, most of the rows, stay out of
-- it, and a refresh writes half as many index entries.
CREATE TABLE author_terms (
	author_id  bigint NOT NULL,
	kind       text NOT NULL,
	term       text NOT NULL,
	score      float8 NOT NULL,
	posts      bigint NOT NULL,
	last_at    timestamptz NOT NULL,
	updated_at timestamptz NOT NULL,
	PRIMARY KEY (author_id, kind, term)
);
CREATE INDEX author_terms_term ON author_terms (kind, term, author_id) INCLUDE (score, updated_at)
	WHERE kind IN ('interest', 'brand', 'language');

-- Authors whose profile is stale (new posts, deletions): a queue the
-- profile refresher drains. Appending never waits (no unique key: an
-- author may be queued twice, the refresher takes distinct ones).
CREATE TABLE profile_queue (
	author_id bigint NOT NULL
);
CREATE INDEX profile_queue_author_id ON profile_queue (author_id);
-- Authors stored before profiles existed: the profiler builds theirs.
INSERT INTO profile_queue SELECT id FROM authors;

-- Sensitive places: a place is sensitive when it is marked so (an
-- explicit area) or its category is on the deny list below. Posts at a
-- sensitive place (of any workspace) never reach profiles or audiences.
ALTER TABLE places ADD COLUMN sensitive boolean NOT NULL DEFAULT false;
-- Every audience request and profile refresh lists the sensitive places
-- of all workspaces: these keep it from reading every place (13 ms for
-- 10,000 places without, 0.2 ms with).
CREATE INDEX places_sensitive ON places (id) WHERE sensitive;
CREATE INDEX places_category ON places ((lower(category) COLLATE "C"));
-- An entry matches a category equal to it or, for an OSM key alone
-- ("healthcare"), any value of that key. The defaults: health care,
-- places of worship, shelters and social facilities, political and union
-- venues. Operators edit the list (geopulse admin sensitive).
CREATE TABLE sensitive_categories (
	category text PRIMARY KEY
);
INSERT INTO sensitive_categories VALUES
	('amenity=clinic'), ('amenity=dentist'), ('amenity=doctors'), ('amenity=hospital'),
	('amenity=place_of_worship'), ('amenity=social_facility'), ('amenity=refugee_site'),
	('building=church'), ('building=mosque'), ('building=synagogue'), ('building=temple'),
	('healthcare'), ('office=political_party'), ('office=union'), ('social_facility'),
	('clinic'), ('hospital'), ('place_of_worship'), ('church'), ('mosque'), ('synagogue'),
	('temple'), ('shelter'), ('political_party'), ('union');

-- Each workspace's privacy settings (geopulse.PrivacySettings, as JSON
-- text: its noise key must come back byte for byte).
CREATE TABLE workspace_settings (
	workspace_id bigint PRIMARY KEY,
	privacy      text NOT NULL
);
