// Package storetest gives tests a fresh database for each test: an SQLite
// file in t.TempDir(), and a PostgreSQL schema of its own when
// FEEDBACKBOT_TEST_DATABASE_URL is set. The DSNs it returns are accepted by
// store.Open.
//
// Outside CI PostgreSQL tests are skipped when the variable is unset; with
// CI=true they fail.
//
// It also has FreezeProxy, a TCP proxy that stands in for a database server
// that stops answering.
//
// Allowed imports: the standard library and lib/pq.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/lib/pq" // PostgreSQL driver for creating schemas
)

// EnvDatabaseURL names the variable holding the PostgreSQL server URL for
// tests, such as postgres://postgres@127.0.0.1:5432/test?sslmode=disable.
const EnvDatabaseURL = "FEEDBACKBOT_TEST_DATABASE_URL"

// ForEachDB runs fn as the subtests "sqlite" and "postgres", each with the
// DSN of a new empty database.
func ForEachDB(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		fn(t, SQLiteDSN(t))
	})
	t.Run("postgres", func(t *testing.T) {
		fn(t, PostgresDSN(t))
	})
}

// SQLiteDSN returns the DSN of a new SQLite file in tb.TempDir().
func SQLiteDSN(tb testing.TB) string {
	tb.Helper()
	return "sqlite:" + filepath.Join(tb.TempDir(), "feedbackbot.db")
}

// PostgresDSN creates a schema of its own on the server named by
// FEEDBACKBOT_TEST_DATABASE_URL, drops it when the test ends, and returns a
// DSN whose connections use it (search_path). It skips the test when the
// variable is unset, unless CI=true, where it fails.
func PostgresDSN(tb testing.TB) string {
	tb.Helper()
	base := os.Getenv(EnvDatabaseURL)
	if base == "" {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("%s is not set (required with CI=true)", EnvDatabaseURL)
		}
		tb.Skipf("%s is not set", EnvDatabaseURL)
	}
	u, err := url.Parse(base)
	if err != nil {
		tb.Fatalf("parse %s: %v", EnvDatabaseURL, err)
	}
	b := make([]byte, 8)
	rand.Read(b)
	schema := "fbtest_" + hex.EncodeToString(b)

	admin, err := sql.Open("postgres", base)
	if err != nil {
		tb.Fatalf("connect to postgres: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	// schema is generated above from hex digits only, so it is safe to splice.
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		tb.Fatalf("create schema: %v", err)
	}
	tb.Cleanup(func() {
		defer admin.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := admin.ExecContext(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			tb.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
