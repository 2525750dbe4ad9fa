-- 0002: compliance. What sources report (deletions, protected accounts, geo
-- scrubs) and what people ask (objection) must stop data from coming back,
-- so the store keeps the lists the pipeline's gate refuses from, and a
-- record of what was applied. Keys only (AuthorID / HandleKey / PostID
-- hashes), never handles: the lists themselves identify nobody.

-- A key may be suppressed for several reasons at once (protected, then the
-- person objected); each reason is lifted on its own.
CREATE TABLE suppressions (
	key        BIGINT NOT NULL,
	reason     VARCHAR NOT NULL,
	created_at TIMESTAMP NOT NULL,
	PRIMARY KEY (key, reason)
);

-- Posts deleted or geo-scrubbed at their source: never stored again, even
-- from a replay of the stream.
CREATE TABLE tombstones (
	post_id    BIGINT PRIMARY KEY,
	created_at TIMESTAMP NOT NULL
);

CREATE SEQUENCE compliance_log_seq START 1;
CREATE TABLE compliance_log (
	seq            BIGINT PRIMARY KEY DEFAULT nextval('compliance_log_seq'),
	kind           VARCHAR NOT NULL,
	source         VARCHAR NOT NULL,
	post_id        BIGINT NOT NULL,
	author_id      BIGINT NOT NULL,
	event_at       TIMESTAMP NOT NULL,
	applied_at     TIMESTAMP NOT NULL,
	posts_removed  BIGINT NOT NULL,
	author_removed BOOLEAN NOT NULL
);
