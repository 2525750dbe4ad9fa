-- 0002: compliance. What sources report (deletions, protected accounts, geo
-- scrubs) and what people ask (objection) must stop data from coming back,
-- so the store keeps the lists the pipeline's gate refuses from, and a
-- record of what was applied. Keys only (AuthorID / HandleKey / PostID
-- hashes), never handles: the lists themselves identify nobody.

-- A key may be suppressed for several reasons at once; each is lifted on its own.
CREATE TABLE suppressions (
	key        bigint NOT NULL,
	reason     text NOT NULL,
	created_at timestamptz NOT NULL,
	PRIMARY KEY (key, reason)
);

-- Posts deleted or geo-scrubbed at their source: never stored again.
CREATE TABLE tombstones (
	post_id    bigint PRIMARY KEY,
	created_at timestamptz NOT NULL
);

CREATE TABLE compliance_log (
	seq            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	kind           text NOT NULL,
	source         text NOT NULL,
	post_id        bigint NOT NULL,
	author_id      bigint NOT NULL,
	event_at       timestamptz NOT NULL,
	applied_at     timestamptz NOT NULL,
	posts_removed  bigint NOT NULL,
	author_removed boolean NOT NULL
);

-- Erasing an account (deletion, protection, later a data-subject request)
-- finds its posts here instead of scanning every month.
CREATE INDEX posts_author_id ON posts (author_id);
