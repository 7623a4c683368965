package migrations

import (
	"embed"
	"fmt"
	"io/fs"
)

// FS holds the migrations of every dialect, under postgres/ and sqlite/.
//
//go:embed postgres/*.sql sqlite/*.sql
var FS embed.FS

// Dialect names accepted by Dialect.
const (
	Postgres = "postgres"
	SQLite   = "sqlite"
)

// Dialect returns the migrations of one dialect ("postgres" or "sqlite"),
// rooted so that the files are at the top level.
func Dialect(name string) (fs.FS, error) {
	switch name {
	case Postgres, SQLite:
		return fs.Sub(FS, name)
	}
	return nil, fmt.Errorf("migrations: unknown dialect %q", name)
}
