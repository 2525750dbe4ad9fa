-- 0005: labels and sentiment. What a post shows or says (geopulse.Label)
-- comes from two writers: the pipeline reads OriginText labels from the
-- words at ingest, the vision workers OriginImage labels from the media
-- later (ReplaceLabels). Each replaces its own origin only. The sentiment
-- of the caption lives in posts.doc.
--
-- post_labels holds every label of a live post, partitioned by month on
-- the post's taken_at like posts, so retention drops a month of labels
-- with its posts. The primary key leads with (post_id, taken_at): a page
-- of posts reads its posts' labels, analytics joins the selected matches,
-- writers replace one post's origin. post_labels_name serves the feed's
-- label filter: the planner merges it, walked backwards in (taken_at,
-- post_id) order, with the workspace's or place's match index (a Merge
-- Semi Join, the generic plan the prepared feed uses). Measured at 200k
-- posts, 600k labels, one workspace of 100 places: 1 ms for a label on 2%
-- of the posts, 0.3 ms for one on 98%; without the index the semi-join
-- scanned the month's labels (60 ms).
CREATE TABLE post_labels (
	post_id     bigint NOT NULL,
	taken_at    timestamptz NOT NULL,
	origin      text NOT NULL,
	kind        text NOT NULL,
	name        text NOT NULL,
	score       real NOT NULL,
	model       text NOT NULL,
	version     text NOT NULL,
	labelled_at timestamptz NOT NULL,
	PRIMARY KEY (post_id, taken_at, origin, kind, name)
) PARTITION BY RANGE (taken_at);
CREATE INDEX post_labels_name ON post_labels (kind, name, taken_at, post_id);

-- Every month that already has posts gets its labels partition, with the
-- same bounds and the store's naming (partition.go creates later months).
DO $$
DECLARE
	r record;
BEGIN
	FOR r IN SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) AS bound
		FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'posts'::regclass AND c.relname ~ '^posts_y[0-9]{4}m[0-9]{2}$'
	LOOP
		EXECUTE format('CREATE TABLE %I PARTITION OF post_labels %s', 'post_labels' || substr(r.relname, 6), r.bound);
	END LOOP;
END
$$;
