// Package testdb gives each test its own freshly migrated MariaDB database
// on the server this machine runs (HARVEST_TEST_MYSQL, default
// root@tcp(127.0.0.1:3306)/), dropped when the test ends, and a Redis client
// on a key prefix of its own.
package testdb

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/migrate"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// ServerDSN is the MariaDB server tests create their databases on.
func ServerDSN() string {
	if v := os.Getenv("HARVEST_TEST_MYSQL"); v != "" {
		return v
	}
	return "root@tcp(127.0.0.1:3306)/"
}

// New creates a database named after the test, applies app's migrations
// and returns it with its DSN; the database is dropped after the test.
func New(t testing.TB, app string) (*sql.DB, string) {
	t.Helper()
	cfg, err := mysql.ParseDSN(ServerDSN())
	if err != nil {
		t.Fatalf("parse HARVEST_TEST_MYSQL: %v", err)
	}
	cfg.DBName = "t_" + app + "_" + strings.ToLower(ids.New()[14:])
	cfg.ParseTime = true
	cfg.Params = map[string]string{"loc": "UTC"}
	dsn := cfg.FormatDSN()
	ctx := context.Background()
	if err := migrate.EnsureDatabase(ctx, dsn); err != nil {
		t.Fatalf("create test database (is MariaDB running? make test starts it): %v", err)
	}
	db, err := sqltx.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		db.Close()
		if os.Getenv("HARVEST_KEEP_TEST_DB") != "" {
			return
		}
		server, err := sql.Open("mysql", ServerDSN())
		if err == nil {
			_, _ = server.Exec("DROP DATABASE IF EXISTS `" + cfg.DBName + "`")
			server.Close()
		}
	})
	if err := migrate.Up(ctx, db, app); err != nil {
		t.Fatalf("migrate %s: %v", app, err)
	}
	return db, dsn
}

// Redis returns a client for the test Redis (HARVEST_TEST_REDIS, default
// 127.0.0.1:6379) and a key prefix unique to this test; keys under the
// prefix are deleted after the test.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	addr := os.Getenv("HARVEST_TEST_REDIS")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	c := redis.NewClient(&redis.Options{Addr: addr, PoolSize: 64})
	if err := c.Ping(context.Background()).Err(); err != nil {
		t.Fatalf("redis at %s (make test starts it): %v", addr, err)
	}
	prefix := fmt.Sprintf("t:%s:", strings.ToLower(ids.New()[14:]))
	t.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		c.Close()
	})
	return c, prefix
}
