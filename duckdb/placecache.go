package duckdb

import (
	"context"
	"fmt"
	"sync"
)

// placeCache keeps each workspace's place names by id. Every feed, post
// lookup and analytics call needs the workspace's place set, and reading it
// from DuckDB cost ~0.4 ms, a tenth of a feed page. Place writes invalidate
// the whole cache; a generation counter stops a reader that loaded before
// such a write from storing what it read.
type placeCache struct {
	mu   sync.Mutex
	gen  uint64
	byWS map[int64]map[int64]string
}

// invalidate drops everything; call it after a place write commits.
func (c *placeCache) invalidate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.byWS = nil
}

// workspacePlaces returns the workspace's place names by id. The map is
// shared: callers must not modify it.
func (db *DB) workspacePlaces(ctx context.Context, workspaceID int64) (map[int64]string, error) {
	c := &db.places
	c.mu.Lock()
	m, ok := c.byWS[workspaceID]
	gen := c.gen
	c.mu.Unlock()
	if ok {
		return m, nil
	}
	rows, err := db.sql.QueryContext(ctx, `SELECT id, name FROM places WHERE workspace_id = ?`, workspaceID)
	if err != nil {
		return nil, fmt.Errorf("workspace places: %w", err)
	}
	defer rows.Close()
	m = make(map[int64]string)
	for rows.Next() {
		var (
			id   int64
			name string
		)
		if err := rows.Scan(&id, &name); err != nil {
			return nil, fmt.Errorf("workspace places: %w", err)
		}
		m[id] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("workspace places: %w", err)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen == gen {
		if c.byWS == nil {
			c.byWS = make(map[int64]map[int64]string)
		}
		c.byWS[workspaceID] = m
	}
	return m, nil
}
