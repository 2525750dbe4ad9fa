package postgres

import (
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
)

func TestWithDatabase(t *testing.T) {
	for _, tc := range []struct {
		name, dsn, want string
	}{
		{"url", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable", "postgres://postgres@127.0.0.1:5432/bench_1?sslmode=disable"},
		{"url without database", "postgres://u:p@db:5432?sslmode=disable", "postgres://u:p@db:5432/bench_1?sslmode=disable"},
		{"key=value", "host=/run/postgresql user=postgres dbname=postgres", "host=/run/postgresql user=postgres dbname=postgres dbname=bench_1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := withDatabase(tc.dsn, "bench_1")
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Fatalf("withDatabase(%q) = %q, want %q", tc.dsn, got, tc.want)
			}
			cfg, err := pgconn.ParseConfig(got)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Database != "bench_1" {
				t.Fatalf("%q connects to database %q, want bench_1", got, cfg.Database)
			}
		})
	}
}

func TestDatabaseNameRE(t *testing.T) {
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"geopulse_bench_123_1000000", true},
		{"Bench", false},
		{"x; DROP DATABASE postgres", false},
		{"", false},
		{"1abc", false},
	} {
		if got := databaseNameRE.MatchString(tc.name); got != tc.ok {
			t.Errorf("databaseNameRE(%q) = %v, want %v", tc.name, got, tc.ok)
		}
	}
}
