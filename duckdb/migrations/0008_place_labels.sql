-- 0008: place_labels, the label rows of the match tables. post_labels has
-- one row per label of a post, which the label analytics and the feed's
-- label filters had to join to the selection's matches: at 10M posts a
-- scan of every label row (55 ms for analytics' label statement, 1.5 s
-- when DuckDB built the join from post_labels). place_labels has one row per match
-- and distinct (label kind, name) of a live post, for the kinds that are
-- ranked and filtered (object, brand, interest), with the columns the
-- other match tables select on: compaction sorts it by (place_id,
-- taken_at) too, so a selection of places reads a few row groups. kind is
-- the post's kind, as in post_places and post_tags.
CREATE TABLE place_labels (
	place_id   BIGINT,
	post_id    BIGINT,
	taken_at   TIMESTAMP,
	kind       VARCHAR,
	label_kind VARCHAR,
	label      VARCHAR,
	multi      BOOLEAN
);

INSERT INTO place_labels
SELECT DISTINCT m.place_id, m.post_id, m.taken_at, m.kind, l.kind, l.name, m.multi
FROM post_places m JOIN post_labels l ON l.post_id = m.post_id
WHERE NOT m.expired AND l.kind IN ('object', 'brand', 'interest')
ORDER BY m.place_id, m.taken_at, m.post_id;
