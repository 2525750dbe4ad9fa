package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	duckdb "github.com/duckdb/duckdb-go/v2"

	"github.com/geopulse/geopulse"
	"github.com/geopulse/geopulse/source/canonical"
)

var _ geopulse.LabelStore = (*DB)(nil)

// ReplaceLabels replaces the labels of one origin of a stored post and
// records at as their labelled_at. Text labels live in the post's doc and
// image labels in posts.image_labels (so a page of posts carries them);
// both are mirrored in post_labels for filters and aggregates. post_labels
// has no index, so the old rows are deleted only when the post had labels
// of that origin, and the delete is narrowed to the post's taken_at, which
// zonemaps prune on. ENOTFOUND when the post is not stored or its content
// expired; EINVALID for a bad origin or label.
func (db *DB) ReplaceLabels(ctx context.Context, postID int64, origin geopulse.LabelOrigin, labels []geopulse.Label, at time.Time) error {
	ls, err := geopulse.NormalizeLabels(labels, origin)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = db.nowUTC()
	} else if !inTimestampRange(at) {
		return geopulse.Errorf(geopulse.EINVALID, "Time %s is out of range.", at.UTC().Format(time.RFC3339))
	}
	at = at.UTC().Truncate(time.Microsecond)
	had := `image_labels IS NOT NULL AND image_labels <> '[]'`
	if origin == geopulse.OriginText {
		had = `coalesce(json_array_length(doc, '$.labels'), 0) > 0`
	}
	err = db.write(ctx, func(c *sql.Conn) error {
		var (
			takenAt      time.Time
			expired, old bool
		)
		err := c.QueryRowContext(ctx, `SELECT taken_at, expired, `+had+` FROM posts WHERE id = ?`, postID).Scan(&takenAt, &expired, &old)
		if errors.Is(err, sql.ErrNoRows) || err == nil && expired {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Post not found.")
		} else if err != nil {
			return err
		}
		if old {
			_, err := c.ExecContext(ctx, `DELETE FROM post_labels WHERE taken_at = `+sqlTime(takenAt)+` AND post_id = ? AND origin = ?`,
				postID, string(origin))
			if err != nil {
				return err
			}
		}
		doc := string(appendLabels(nil, ls))
		if origin == geopulse.OriginImage {
			_, err = c.ExecContext(ctx, `UPDATE posts SET image_labels = ? WHERE id = ?`, doc, postID)
		} else {
			_, err = c.ExecContext(ctx, `UPDATE posts SET doc = json_merge_patch(doc, json_object('labels', ?::JSON))::VARCHAR WHERE id = ?`, doc, postID)
		}
		if err != nil {
			return err
		}
		// The author's profile reads labels: it is recomputed.
		if err := queueAuthorsOf(ctx, c, `SELECT author_id FROM posts WHERE id = ?`, postID); err != nil {
			return err
		}
		err = withAppender(c, "", "post_labels", func(a *duckdb.Appender) error {
			for _, l := range ls {
				if err := appendLabelRow(a, postID, takenAt, l, at); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		db.touch(postID)
		this := func(a string) string {
			return a + `taken_at = ` + sqlTime(takenAt) + ` AND ` + a + `post_id = ` + strconv.FormatInt(postID, 10)
		}
		return rederivePlaceLabels(ctx, c, this, this("l."))
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("replace labels of post %d: %w", postID, err)
	}
	return nil
}

// labelKinds are the label kinds that are ranked and filtered, and so
// have place_labels rows (0008_place_labels.sql), inlined.
const labelKinds = `('object', 'brand', 'interest')`

// rederivePlaceLabels rewrites the place_labels rows of the matches that
// matches selects, from post_places and post_labels. matches renders a
// condition over place_id, post_id and taken_at (columns of both tables)
// for a table alias; labels narrows the post_labels scan (alias l), which
// a condition on the post ids or their time keeps from reading the whole
// table.
func rederivePlaceLabels(ctx context.Context, c *sql.Conn, matches func(alias string) string, labels string) error {
	_, err := c.ExecContext(ctx, `DELETE FROM place_labels WHERE `+matches("")+`;
		INSERT INTO place_labels SELECT DISTINCT m.place_id, m.post_id, m.taken_at, m.kind, l.kind, l.name, m.multi
		FROM post_places m JOIN post_labels l ON l.post_id = m.post_id
		WHERE `+matches("m.")+` AND NOT m.expired AND l.kind IN `+labelKinds+` AND `+labels)
	if err != nil {
		return fmt.Errorf("place labels: %w", err)
	}
	return nil
}

// rankedLabel is whether labels of kind k have place_labels rows (see
// labelKinds).
func rankedLabel(k geopulse.LabelKind) bool {
	return k == geopulse.LabelObject || k == geopulse.LabelBrand || k == geopulse.LabelInterest
}

// appendLabelRow appends one post_labels row (0005_labels.sql).
func appendLabelRow(a *duckdb.Appender, postID int64, takenAt time.Time, l geopulse.Label, at time.Time) error {
	return a.AppendRow(postID, takenAt, string(l.Origin), string(l.Kind), l.Name, l.Score, l.Model, l.Version, at)
}

// docLabel is a label as doc and image_labels hold it (the origin is where
// it is kept).
type docLabel struct {
	Kind    string  `json:"kind"`
	Name    string  `json:"name"`
	Score   float32 `json:"score"`
	Model   string  `json:"model"`
	Version string  `json:"version"`
}

// appendLabels appends ls as a JSON array of docLabels.
func appendLabels(b []byte, ls []geopulse.Label) []byte {
	b = append(b, '[')
	for i, l := range ls {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"kind":`...)
		b = canonical.AppendJSONString(b, string(l.Kind))
		b = append(b, `,"name":`...)
		b = canonical.AppendJSONString(b, l.Name)
		b = append(b, `,"score":`...)
		b = strconv.AppendFloat(b, float64(l.Score), 'g', -1, 32)
		b = append(b, `,"model":`...)
		b = canonical.AppendJSONString(b, l.Model)
		b = append(b, `,"version":`...)
		b = canonical.AppendJSONString(b, l.Version)
		b = append(b, '}')
	}
	return append(b, ']')
}

// fromDocLabels appends the docLabels of one origin to ls.
func fromDocLabels(ls []geopulse.Label, ds []docLabel, origin geopulse.LabelOrigin) []geopulse.Label {
	for _, d := range ds {
		ls = append(ls, geopulse.Label{Kind: geopulse.LabelKind(d.Kind), Name: d.Name, Score: d.Score,
			Origin: origin, Model: d.Model, Version: d.Version})
	}
	return ls
}
