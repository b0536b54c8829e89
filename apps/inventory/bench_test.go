package main

import (
	"context"
	"database/sql"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/harvest/harvest/apps/inventory/app"
	"github.com/harvest/harvest/apps/inventory/domain"
	"github.com/harvest/harvest/apps/inventory/hotstock"
	"github.com/harvest/harvest/apps/inventory/store"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/platform/testdb"
)

type noOrders struct{}

func (noOrders) Exists(context.Context, string) (omsclient.Existence, error) {
	return omsclient.Existence{}, nil
}

const benchUnits = 1_000_000_000

func benchEnv(b *testing.B) (*sql.DB, *redis.Client, string, *hotstock.Stock, *app.Service) {
	b.Helper()
	db, _ := testdb.New(b, "inventory")
	rdb, prefix := testdb.Redis(b)
	st := store.New(db, clock.System{})
	hot := hotstock.New(rdb, db, prefix)
	p := func(sku string, hot bool) domain.Product {
		return domain.Product{SKU: sku, Name: sku, PriceFen: 100, Zone: domain.ZoneAmbient, Category: domain.CategoryGrainOil, TaxRateBP: 900, Warehouse: "WH-SH", Hot: hot}
	}
	if err := st.InsertCatalog(context.Background(), []domain.Product{p("COLD", false), p("FLASH", true)},
		map[string]int64{"COLD": benchUnits, "FLASH": benchUnits}); err != nil {
		b.Fatal(err)
	}
	if _, err := hot.EnsureAll(context.Background()); err != nil {
		b.Fatal(err)
	}
	return db, rdb, prefix, hot, app.New(st, hot, noOrders{}, clock.System{}, app.Options{})
}

var orderSeq atomic.Int64

func nextOrder() string { return fmt.Sprintf("b%d-%d", time.Now().UnixNano(), orderSeq.Add(1)) }

// BenchmarkReserveHotSKU reserves one unit of a hot SKU per order, many
// buyers at once: "lua" is the Redis script alone (what a flash-sale buyer
// contends on), "full" the whole Reserve (script + the reservation row).
func BenchmarkReserveHotSKU(b *testing.B) {
	_, _, _, hot, svc := benchEnv(b)
	b.Run("lua", func(b *testing.B) {
		parts := []domain.Part{{SKU: "FLASH", Qty: 1, Hot: true}}
		exp := time.Now().Add(time.Hour)
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				r, err := hot.Reserve(context.Background(), nextOrder(), "fp", exp, parts)
				if err != nil || r.Outcome != hotstock.Taken {
					b.Errorf("reserve: %+v %v", r, err)
					return
				}
			}
		})
	})
	b.Run("full", func(b *testing.B) {
		b.SetParallelism(8)
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				rq, _ := domain.NewRequest(nextOrder(), []domain.Line{{SKU: "FLASH", Qty: 1}}, time.Hour)
				if _, err := svc.Reserve(context.Background(), rq); err != nil {
					b.Errorf("reserve: %v", err)
					return
				}
			}
		})
	})
}

// BenchmarkRedisLuaDecrementBaseline is the floor for the hot path: a bare
// Lua decrement-if-enough of one counter, no ledger, no stream.
func BenchmarkRedisLuaDecrementBaseline(b *testing.B) {
	rdb, prefix := testdb.Redis(b)
	key := prefix + "baseline"
	if err := rdb.Set(context.Background(), key, benchUnits, 0).Err(); err != nil {
		b.Fatal(err)
	}
	script := redis.NewScript(`local v = tonumber(redis.call('GET', KEYS[1]) or '0')
if v < tonumber(ARGV[1]) then return -1 end
return redis.call('DECRBY', KEYS[1], ARGV[1])`)
	b.ResetTimer()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if n, err := script.Run(context.Background(), rdb, []string{key}, 1).Int64(); err != nil || n < 0 {
				b.Errorf("decrement: %d %v", n, err)
				return
			}
		}
	})
}

// BenchmarkReserveMySQL reserves one unit of an ordinary SKU per order:
// reservation row, conditional decrement, parts, one commit.
func BenchmarkReserveMySQL(b *testing.B) {
	_, _, _, _, svc := benchEnv(b)
	b.ResetTimer()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			rq, _ := domain.NewRequest(nextOrder(), []domain.Line{{SKU: "COLD", Qty: 1}}, time.Hour)
			if _, err := svc.Reserve(context.Background(), rq); err != nil {
				b.Errorf("reserve: %v", err)
				return
			}
		}
	})
}

// BenchmarkMySQLCommitBaseline is the floor for the MariaDB path: a bare
// transaction committing one conditional UPDATE of the same stock row.
func BenchmarkMySQLCommitBaseline(b *testing.B) {
	db, _, _, _, _ := benchEnv(b)
	b.ResetTimer()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			err := sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
				r, err := tx.Exec(`UPDATE stock SET available = available - 1 WHERE sku = 'COLD' AND available >= 1`)
				if err != nil {
					return err
				}
				if n, _ := r.RowsAffected(); n != 1 {
					return fmt.Errorf("no row updated")
				}
				return nil
			})
			if err != nil {
				b.Errorf("commit: %v", err)
				return
			}
		}
	})
}
