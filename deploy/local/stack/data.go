package stack

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/redis/go-redis/v9"
)

// redisLeaseKey marks a Redis DB as taken by a running test stack (kept
// in DB 0, refreshed while the stack lives, gone within leaseTTL of a
// crash).
const redisLeaseKey = "harvest:stack:redisdb:"

const leaseTTL = 60 * time.Second

// prepareRedis picks the stack's Redis DB. The dev stack uses
// Options.RedisDB as is and keeps its data. A test stack uses
// Options.RedisDB when set, or leases a free one of 1..15, and flushes it
// so no stream or consumer group of an earlier run leaks in.
func (s *Stack) prepareRedis(ctx context.Context) error {
	o := s.opts
	c0 := redis.NewClient(&redis.Options{Addr: o.RedisAddr, DB: 0})
	defer c0.Close()
	if err := c0.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis at %s (make up / make test start it): %w", o.RedisAddr, err)
	}
	if o.Name == DevName {
		s.redisDB = o.RedisDB
		return nil
	}
	if o.RedisDB != 0 {
		s.redisDB = o.RedisDB
	} else {
		owner := fmt.Sprintf("%s pid %d", o.Name, os.Getpid())
		for db := 15; db >= 1; db-- {
			ok, err := c0.SetNX(ctx, redisLeaseKey+strconv.Itoa(db), owner, leaseTTL).Result()
			if err != nil {
				return fmt.Errorf("lease a redis db: %w", err)
			}
			if ok {
				s.redisDB = db
				s.releaseDB = s.keepLease(db)
				break
			}
		}
		if s.redisDB == 0 {
			return fmt.Errorf("no free redis db: DBs 1..15 are all leased by running test stacks (keys %s*)", redisLeaseKey)
		}
	}
	c := redis.NewClient(&redis.Options{Addr: o.RedisAddr, DB: s.redisDB})
	defer c.Close()
	if err := c.FlushDB(ctx).Err(); err != nil {
		return fmt.Errorf("flush redis db %d: %w", s.redisDB, err)
	}
	return nil
}

// keepLease refreshes the lease on db until the returned func is called,
// which deletes it.
func (s *Stack) keepLease(db int) func() {
	key := redisLeaseKey + strconv.Itoa(db)
	stop := make(chan struct{})
	done := make(chan struct{})
	c := redis.NewClient(&redis.Options{Addr: s.opts.RedisAddr})
	go func() {
		defer close(done)
		t := time.NewTicker(leaseTTL / 3)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				_ = c.Expire(context.Background(), key, leaseTTL).Err()
			}
		}
	}()
	return func() {
		close(stop)
		<-done
		_ = c.Del(context.Background(), key).Err()
		c.Close()
	}
}

// dropDatabases drops every database named <prefix>_*.
func dropDatabases(ctx context.Context, server, prefix string) error {
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		return fmt.Errorf("parse mysql server dsn: %w", err)
	}
	cfg.DBName = ""
	db, err := sql.Open("mysql", cfg.FormatDSN())
	if err != nil {
		return err
	}
	defer db.Close()
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	rows, err := db.QueryContext(ctx, "SELECT schema_name FROM information_schema.schemata WHERE schema_name LIKE ?", strings.ReplaceAll(prefix, "_", `\_`)+`\_%`)
	if err != nil {
		return fmt.Errorf("list databases %s_*: %w", prefix, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			rows.Close()
			return err
		}
		names = append(names, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, n := range names {
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS `"+strings.ReplaceAll(n, "`", "``")+"`"); err != nil {
			return fmt.Errorf("drop database %s: %w", n, err)
		}
	}
	return nil
}
