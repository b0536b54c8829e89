package inbox_test

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// A message delivered 20 times at once has exactly one effect.
func TestClaimOnceUnderConcurrentRedelivery(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	if _, err := db.Exec(`CREATE TABLE effects (n INT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	var applied atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
				first, err := inbox.Claim(context.Background(), tx, "test-consumer", "msg-1")
				if err != nil || !first {
					return err
				}
				applied.Add(1)
				_, err = tx.Exec(`INSERT INTO effects VALUES (1)`)
				return err
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	var rows int
	if err := db.QueryRow(`SELECT COUNT(*) FROM effects`).Scan(&rows); err != nil {
		t.Fatal(err)
	}
	if rows != 1 {
		t.Fatalf("effect applied %d times", rows)
	}
	// Another consumer of the same message is independent.
	err := sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
		first, err := inbox.Claim(context.Background(), tx, "other-consumer", "msg-1")
		if err == nil && !first {
			t.Error("other consumer should claim its own copy")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestClaimRolledBackCanBeRetried(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if first, err := inbox.Claim(ctx, tx, "c", "m"); err != nil || !first {
		t.Fatalf("first claim: %v %v", first, err)
	}
	tx.Rollback() // the effect failed: the claim must vanish with it
	err = sqltx.Run(ctx, db, func(tx *sql.Tx) error {
		first, err := inbox.Claim(ctx, tx, "c", "m")
		if err == nil && !first {
			t.Error("claim survived a rollback")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
