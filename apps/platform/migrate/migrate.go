// Package migrate creates an app's database when it is missing and applies
// its migrations with goose: first the platform's own tables (outbox, inbox),
// tracked in goose_platform, then the app's, tracked in goose_app.
package migrate

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"regexp"

	"github.com/go-sql-driver/mysql"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"

	"github.com/harvest/harvest/schema"
)

var dbName = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)

// EnsureDatabase creates the database named in dsn when it does not exist.
func EnsureDatabase(ctx context.Context, dsn string) error {
	cfg, err := mysql.ParseDSN(dsn)
	if err != nil {
		return fmt.Errorf("parse dsn: %w", err)
	}
	name := cfg.DBName
	if !dbName.MatchString(name) {
		return fmt.Errorf("database name %q is not a plain identifier", name)
	}
	cfg.DBName = ""
	server, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer server.Close()
	_, err = server.ExecContext(ctx, "CREATE DATABASE IF NOT EXISTS `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
	if err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// Up applies the platform migrations and then the app's own.
func Up(ctx context.Context, db *sql.DB, app string) error {
	appFS, err := schema.Migrations(app)
	if err != nil {
		return err
	}
	platformFS, err := schema.Migrations("platform")
	if err != nil {
		return err
	}
	if err := apply(ctx, db, platformFS, "goose_platform"); err != nil {
		return fmt.Errorf("platform migrations: %w", err)
	}
	if app == "platform" { // the platform's own tests need only its tables
		return nil
	}
	if err := apply(ctx, db, appFS, "goose_app"); err != nil {
		return fmt.Errorf("%s migrations: %w", app, err)
	}
	return nil
}

func apply(ctx context.Context, db *sql.DB, fsys fs.FS, table string) error {
	store, err := database.NewStore(goose.DialectMySQL, table)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider("", db, fsys, goose.WithStore(store), goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}
