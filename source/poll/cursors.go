package poll

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/geopulse/geopulse"
)

// cursorsFile is the file FileCursors keeps in its directory.
const cursorsFile = "cursors.json"

// FileCursors is a CursorStore in one JSON file. Every Save rewrites the
// file through a temporary file, fsync and rename (then an fsync of the
// directory), so a crash leaves the old or the new file, never a torn one.
// Rewriting everything is fine at a poller's pace (a save per page, and
// pages are rate-limited to about one a second); 10,000 cursors are about
// 1 MB. One process may use a directory at a time.
type FileCursors struct {
	dir string
	mu  sync.Mutex
	m   map[string]string
}

// OpenFileCursors opens (creating it if needed) the cursor file in dir.
func OpenFileCursors(dir string) (*FileCursors, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("cursors: %w", err)
	}
	c := &FileCursors{dir: dir, m: map[string]string{}}
	b, err := os.ReadFile(filepath.Join(dir, cursorsFile))
	switch {
	case os.IsNotExist(err):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("cursors: %w", err)
	}
	if err := json.Unmarshal(b, &c.m); err != nil {
		return nil, fmt.Errorf("cursors: %s: %w", filepath.Join(dir, cursorsFile), err)
	}
	if c.m == nil { // the file held null
		c.m = map[string]string{}
	}
	return c, nil
}

// Load returns the value saved under key, or ENOTFOUND.
func (c *FileCursors) Load(_ context.Context, key string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[key]
	if !ok {
		return "", geopulse.Errorf(geopulse.ENOTFOUND, "no cursor %q", key)
	}
	return v, nil
}

// Save stores value under key and returns once the file is on disk. On
// error the stored value is unchanged.
func (c *FileCursors) Save(ctx context.Context, key, value string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	next := maps.Clone(c.m)
	next[key] = value
	if err := c.write(next); err != nil {
		return fmt.Errorf("cursors: %w", err)
	}
	c.m = next
	return nil
}

func (c *FileCursors) write(m map[string]string) error {
	b, err := json.MarshalIndent(m, "", " ")
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(c.dir, cursorsFile+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after a successful rename there is nothing left to remove
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), filepath.Join(c.dir, cursorsFile)); err != nil {
		return err
	}
	d, err := os.Open(c.dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync() // makes the rename itself durable
}
