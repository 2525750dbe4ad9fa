package duckdb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
)

// writerState is what the writer connection keeps between batches. Every
// access holds wmu, but to group.
type writerState struct {
	// group queues the calls that wait for the writer; it has its own
	// lock and is the one field used without wmu.
	group   upsertGroup
	authors authorCache
	// stmts are prepared once per connection: parsing and planning a
	// statement cost more than running the small ones of a batch.
	stmts map[string]*sql.Stmt
}

// stmt returns query prepared on the writer connection c. Statements are
// closed with the connection.
func (s *writerState) stmt(ctx context.Context, c *sql.Conn, query string) (*sql.Stmt, error) {
	if st := s.stmts[query]; st != nil {
		return st, nil
	}
	st, err := c.PrepareContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("prepare: %w", err)
	}
	if s.stmts == nil {
		s.stmts = make(map[string]*sql.Stmt)
	}
	s.stmts[query] = st
	return st, nil
}

// exec runs a prepared query without arguments on c.
func (s *writerState) exec(ctx context.Context, c *sql.Conn, query string) error {
	st, err := s.stmt(ctx, c, query)
	if err != nil {
		return err
	}
	_, err = st.ExecContext(ctx)
	return err
}

// close releases the prepared statements; the writer connection does not
// close while they are open.
func (s *writerState) close() error {
	var errs []error
	for _, st := range s.stmts {
		errs = append(errs, st.Close())
	}
	s.stmts = nil
	return errors.Join(errs...)
}
