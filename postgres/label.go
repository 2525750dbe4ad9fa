package postgres

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/geopulse/geopulse"
)

var _ geopulse.LabelStore = (*DB)(nil)

// postLabelsColumns are the columns of post_labels in table order
// (0005_labels.sql).
var postLabelsColumns = []string{"post_id", "taken_at", "origin", "kind", "name", "score", "model", "version", "labelled_at"}

// ReplaceLabels replaces the labels of one origin of a stored post and
// records at as their labelled_at. The post's key is locked first, as
// ingest batches lock it, so a concurrent re-delivery (which may move the
// post to another month) runs before or after, never between. ENOTFOUND
// when the post is not stored or its content expired; EINVALID for a bad
// origin or label.
func (db *DB) ReplaceLabels(ctx context.Context, postID int64, origin geopulse.LabelOrigin, labels []geopulse.Label, at time.Time) error {
	ls, err := geopulse.NormalizeLabels(labels, origin)
	if err != nil {
		return err
	}
	if at.IsZero() {
		at = db.nowUTC()
	} else if y := at.UTC().Year(); y < 1 || y > 9999 {
		return geopulse.Errorf(geopulse.EINVALID, "Time %s is out of range.", at.UTC().Format(time.RFC3339))
	}
	at = at.UTC().Truncate(time.Microsecond)
	err = db.inTx(ctx, func(tx pgx.Tx) error {
		var (
			takenAt time.Time
			expired bool
		)
		err := tx.QueryRow(ctx, `SELECT k.taken_at, p.expired FROM post_keys k JOIN posts p ON p.id = k.id AND p.taken_at = k.taken_at
			WHERE k.id = $1 FOR UPDATE OF k`, postID).Scan(&takenAt, &expired)
		if errors.Is(err, pgx.ErrNoRows) || err == nil && expired {
			return geopulse.Errorf(geopulse.ENOTFOUND, "Post not found.")
		} else if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM post_labels WHERE post_id = $1 AND taken_at = $2 AND origin = $3`,
			postID, takenAt, string(origin)); err != nil {
			return err
		}
		// The author's profile reads labels: it is recomputed.
		if _, err := tx.Exec(ctx, `INSERT INTO profile_queue SELECT author_id FROM posts WHERE id = $1 AND taken_at = $2`,
			postID, takenAt); err != nil {
			return err
		}
		rows := make([]labelRow, len(ls))
		for i, l := range ls {
			rows[i] = labelRow{post: postID, takenAt: takenAt, label: l}
		}
		return copyLabels(ctx, tx, rows, at)
	})
	if geopulse.ErrorCode(err) == geopulse.ENOTFOUND {
		return err
	} else if err != nil {
		return fmt.Errorf("replace labels of post %d: %w", postID, err)
	}
	return nil
}

// labelRow is a row of post_labels.
type labelRow struct {
	post    int64
	takenAt time.Time
	label   geopulse.Label
}

// copyLabels writes rows with COPY, in primary-key order, labelled at at.
func copyLabels(ctx context.Context, tx pgx.Tx, rows []labelRow, at time.Time) error {
	if len(rows) == 0 {
		return nil
	}
	slices.SortFunc(rows, func(a, b labelRow) int {
		if c := cmp.Compare(a.post, b.post); c != 0 {
			return c
		}
		if c := a.takenAt.Compare(b.takenAt); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(a.label.Origin, b.label.Origin), cmp.Compare(a.label.Kind, b.label.Kind), cmp.Compare(a.label.Name, b.label.Name))
	})
	row := make([]any, len(postLabelsColumns))
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"post_labels"}, postLabelsColumns, pgx.CopyFromSlice(len(rows), func(i int) ([]any, error) {
		r := &rows[i]
		l := &r.label
		row[0], row[1], row[2], row[3], row[4] = r.post, r.takenAt, string(l.Origin), string(l.Kind), l.Name
		row[5], row[6], row[7], row[8] = l.Score, l.Model, l.Version, at
		return row, nil
	}))
	if err != nil {
		return fmt.Errorf("copy labels: %w", err)
	}
	return nil
}

// postLabelsSQL is the labels of the post aliased p as a JSON array of
// [origin, kind, name, score, model, version], text labels first, then
// by kind and name (byte-wise, as Go and the embedded store order them);
// NULL when it has none.
const postLabelsSQL = `(SELECT json_agg(json_build_array(l.origin, l.kind, l.name, l.score, l.model, l.version)
		ORDER BY l.origin = 'image', l.kind COLLATE "C", l.name COLLATE "C")
	FROM post_labels l WHERE l.post_id = p.id AND l.taken_at = p.taken_at)`

// decodeLabels reads postLabelsSQL's value.
func decodeLabels(postID int64, raw []byte) ([]geopulse.Label, error) {
	if len(raw) == 0 {
		return nil, nil
	}
	var rows [][6]json.RawMessage
	if err := json.Unmarshal(raw, &rows); err != nil {
		return nil, fmt.Errorf("decode labels of post %d: %w", postID, err)
	}
	out := make([]geopulse.Label, len(rows))
	for i, r := range rows {
		var origin, kind string
		l := &out[i]
		for j, v := range []any{&origin, &kind, &l.Name, &l.Score, &l.Model, &l.Version} {
			if err := json.Unmarshal(r[j], v); err != nil {
				return nil, fmt.Errorf("decode labels of post %d: %w", postID, err)
			}
		}
		l.Origin, l.Kind = geopulse.LabelOrigin(origin), geopulse.LabelKind(kind)
	}
	return out, nil
}
