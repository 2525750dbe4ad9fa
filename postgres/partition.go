package postgres

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// partitionedTables are the tables partitioned by month on taken_at. They
// always have the same months, so retention drops a month from all of them.
var partitionedTables = [...]string{"posts", "post_places", "post_tags", "post_labels"}

// partitionLockKey is the advisory lock that serialises creating and
// dropping partitions between processes.
const partitionLockKey = 0x67656f7061727473 // "geoparts"

// partitions remembers the months whose partitions exist. Creating a
// partition takes an exclusive lock on the parent table, so a writer checks
// here (no round trip) and only the first batch of a new month pays.
type partitions struct {
	mu     sync.Mutex
	months map[int]bool // year*12 + month-1
}

// month is a calendar month in UTC as year*12 + (month-1).
func monthOf(t time.Time) int {
	t = t.UTC()
	return t.Year()*12 + int(t.Month()) - 1
}

func monthStart(m int) time.Time {
	return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC)
}

// partitionName is the name of table's partition for month m, e.g.
// posts_y2025m06.
func partitionName(table string, m int) string {
	return fmt.Sprintf("%s_y%04dm%02d", table, m/12, m%12+1)
}

var partitionNameRE = regexp.MustCompile(`^posts_y(\d{4})m(\d{2})$`)

// loadPartitions reads the months that already have partitions.
func (db *DB) loadPartitions(ctx context.Context) error {
	months, err := existingMonths(ctx, db.pool)
	if err != nil {
		return err
	}
	db.parts.mu.Lock()
	defer db.parts.mu.Unlock()
	db.parts.months = make(map[int]bool, len(months))
	for _, m := range months {
		db.parts.months[m] = true
	}
	return nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// existingMonths lists the months that have a posts partition, oldest first.
func existingMonths(ctx context.Context, q querier) ([]int, error) {
	rows, err := q.Query(ctx, `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'posts'::regclass`)
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	names, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("list partitions: %w", err)
	}
	var months []int
	for _, name := range names {
		m := partitionNameRE.FindStringSubmatch(name)
		if m == nil {
			continue // an operator's own partition: leave it alone
		}
		y, _ := strconv.Atoi(m[1])
		mo, _ := strconv.Atoi(m[2])
		months = append(months, y*12+mo-1)
	}
	slices.Sort(months)
	return months, nil
}

// ensurePartitions creates the partitions of every month of times that has
// none yet. It runs before (never inside) a write transaction: CREATE TABLE
// .. PARTITION OF locks the parent exclusively, and taking that lock while
// holding a row-exclusive one could deadlock against another writer.
func (db *DB) ensurePartitions(ctx context.Context, times []time.Time) error {
	db.parts.mu.Lock()
	var missing []int
	for _, t := range times {
		if m := monthOf(t); !db.parts.months[m] && !slices.Contains(missing, m) {
			missing = append(missing, m)
		}
	}
	db.parts.mu.Unlock()
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLockKey)); err != nil {
			return err
		}
		for _, m := range missing {
			from, to := monthStart(m), monthStart(m+1)
			for _, table := range partitionedTables {
				// Bounds are literals: DDL takes no parameters. They are
				// formatted from integers, never from input text.
				_, err := tx.Exec(ctx, fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s PARTITION OF %s FOR VALUES FROM ('%s') TO ('%s')`,
					partitionName(table, m), table, from.Format(time.RFC3339), to.Format(time.RFC3339)))
				if err != nil {
					return fmt.Errorf("create partition %s: %w", partitionName(table, m), err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("create partitions: %w", err)
	}
	db.parts.mu.Lock()
	for _, m := range missing {
		db.parts.months[m] = true
	}
	db.parts.mu.Unlock()
	for _, m := range missing {
		db.logger.Info("postgres partition created", logKeyPartition, partitionName("posts", m))
	}
	return nil
}

// DropMonthsBefore is retention at the cost of a DROP TABLE: it drops the
// monthly partitions of posts, post_places, post_tags and post_labels
// that end at or before t (whole months only; a month that t cuts stays)
// and forgets their posts' keys. Authors and their count history stay:
// they are not tied to a month. It returns how many months it dropped.
//
// Dropping a partition locks the parent tables exclusively for an instant,
// so run it from one maintenance process (the janitor), not per request.
func (db *DB) DropMonthsBefore(ctx context.Context, t time.Time) (int, error) {
	// Month m ends at monthStart(m+1) <= t exactly when m < monthOf(t).
	end := monthOf(t)
	var dropped []int
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		dropped = dropped[:0]
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, int64(partitionLockKey)); err != nil {
			return err
		}
		months, err := existingMonths(ctx, tx)
		if err != nil {
			return err
		}
		for _, m := range months {
			if m >= end {
				break
			}
			// post_keys is not partitioned: delete the month's keys by the
			// ids its partition holds (its primary key answers each one).
			if _, err := tx.Exec(ctx, `DELETE FROM post_keys WHERE id IN (SELECT id FROM `+partitionName("posts", m)+`)`); err != nil {
				return fmt.Errorf("forget keys of %s: %w", partitionName("posts", m), err)
			}
			// The month's authors have their profiles recomputed without it.
			if _, err := tx.Exec(ctx, `INSERT INTO profile_queue SELECT DISTINCT author_id FROM `+partitionName("posts", m)); err != nil {
				return fmt.Errorf("queue authors of %s: %w", partitionName("posts", m), err)
			}
			for _, table := range partitionedTables {
				if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS `+partitionName(table, m)); err != nil {
					return fmt.Errorf("drop %s: %w", partitionName(table, m), err)
				}
			}
			dropped = append(dropped, m)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("drop months: %w", err)
	}
	db.parts.mu.Lock()
	for _, m := range dropped {
		delete(db.parts.months, m)
	}
	db.parts.mu.Unlock()
	for _, m := range dropped {
		db.logger.Info("postgres partition dropped", logKeyPartition, partitionName("posts", m))
	}
	return len(dropped), nil
}
