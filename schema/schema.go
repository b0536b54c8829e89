// Package schema holds Harvest's contracts that are not Go: the GraphQL
// schema of the three front-ends (graphql/*.graphqls) and each app's SQL
// migrations (migrations/<app>/*.sql), embedded so the apps carry them.
package schema

import (
	"embed"
	"fmt"
	"io/fs"
)

//go:embed migrations
var migrations embed.FS

// Migrations returns the migration files of one app ("platform" for the
// tables every app shares).
func Migrations(app string) (fs.FS, error) {
	sub, err := fs.Sub(migrations, "migrations/"+app)
	if err != nil {
		return nil, fmt.Errorf("migrations for %s: %w", app, err)
	}
	if _, err := fs.Stat(sub, "."); err != nil {
		return nil, fmt.Errorf("no migrations for app %q", app)
	}
	return sub, nil
}
