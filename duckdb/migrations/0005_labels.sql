-- 0005: labels and sentiment. What a post shows or says (geopulse.Label)
-- comes from two writers: the pipeline reads OriginText labels from the
-- words at ingest, the vision workers OriginImage labels from the media
-- later (ReplaceLabels). Each replaces its own origin only.
--
-- For output, a post carries its labels with it, so that a page of posts
-- reads no other table (post_labels has no index: a lookup by post id
-- would scan it): the text labels and the sentiment live in doc, written
-- with it, and the image labels in image_labels (JSON, NULL until the
-- vision workers label the post), a column of its own because the upsert
-- of a re-delivered post replaces doc but must keep what the images said.

ALTER TABLE posts ADD COLUMN image_labels VARCHAR;

-- One row per label of a live post, of either origin, for the label
-- filters of the feed and the label aggregates of analytics. taken_at is
-- the post's, so that both prune row groups by time as the match tables
-- do (rows arrive roughly in time order). labelled_at is when its origin
-- was last labelled. No constraints or indexes, like the match tables:
-- posts with labels are appended, and posts without cost nothing.
CREATE TABLE post_labels (
	post_id     BIGINT,
	taken_at    TIMESTAMP,
	origin      VARCHAR,
	kind        VARCHAR,
	name        VARCHAR,
	score       FLOAT,
	model       VARCHAR,
	version     VARCHAR,
	labelled_at TIMESTAMP
);
