// Package pgtest gives tests a fresh PostgreSQL database, so that tests of
// the postgres store, and end-to-end tests of processes that use it, never
// share state with each other or with a developer's data.
//
// The server comes from the environment: GEOPULSE_TEST_POSTGRES holds an
// admin DSN (a postgres:// URL of a role that may create databases, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable, which
// .ci/run sets). Without it the tests skip, saying so. The server needs
// PostGIS 3 installed (Debian: postgresql-15-postgis-3).
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
)

// EnvDSN names the environment variable holding the admin DSN.
const EnvDSN = "GEOPULSE_TEST_POSTGRES"

// NewDatabase creates a database with a random name (geopulse_test_…) and
// PostGIS installed, drops it (closing any connection left) when the test
// ends, and returns its DSN. It skips the test when EnvDSN is not set.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvDSN)
	if admin == "" {
		t.Skipf("%s is not set: skipping the PostgreSQL tests (set it to an admin DSN such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable; .ci/run does)", EnvDSN)
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		t.Fatalf("%s must be a postgres:// URL", EnvDSN)
	}
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		t.Fatalf("connect to %s: %v", EnvDSN, err)
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "geopulse_test_" + hex.EncodeToString(b)
	if _, err := conn.Exec(ctx, `CREATE DATABASE `+name); err != nil {
		conn.Close(ctx)
		t.Fatalf("create database: %v", err)
	}
	t.Cleanup(func() {
		defer conn.Close(context.Background())
		if _, err := conn.Exec(context.Background(), `DROP DATABASE `+name+` WITH (FORCE)`); err != nil {
			t.Errorf("drop database %s: %v", name, err)
		}
	})
	u.Path = "/" + name
	dsn := u.String()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE EXTENSION postgis`); err != nil {
		t.Fatalf("create extension postgis (is postgresql-15-postgis-3 installed?): %v", err)
	}
	return dsn
}

// NewSchema creates an empty schema in the database at dsn and returns a
// DSN whose search_path puts it first (PostGIS stays reachable in public).
// A schema costs milliseconds where a database costs hundreds, so tests
// that need many empty stores take one database and a schema each. The
// DSN also turns off synchronous_commit: tests need no durability, and not
// waiting for the WAL flush at every commit (DDL included) halves their
// time.
func NewSchema(t testing.TB, dsn string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	name := "s_" + hex.EncodeToString(b)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE SCHEMA `+name); err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", name+",public")
	q.Set("synchronous_commit", "off")
	u.RawQuery = q.Encode()
	return u.String()
}
