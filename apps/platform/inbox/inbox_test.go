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

// ClaimAll claims the ids not claimed before and an id repeated in one
// call once; in a READ COMMITTED transaction it sees claims committed after
// the transaction began.
func TestClaimAll(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	ctx := context.Background()
	claim := func(ids ...string) ([]bool, error) {
		var fresh []bool
		err := sqltx.Run(ctx, db, func(tx *sql.Tx) error {
			var err error
			fresh, err = inbox.ClaimAll(ctx, tx, "c", ids)
			return err
		})
		return fresh, err
	}
	if fresh, err := claim("a", "b", "a"); err != nil || fresh[0] != true || fresh[1] != true || fresh[2] != false {
		t.Fatalf("first claim: %v %v", fresh, err)
	}
	if fresh, err := claim("b", "c"); err != nil || fresh[0] != false || fresh[1] != true {
		t.Fatalf("second claim: %v %v", fresh, err)
	}
	if _, err := claim("d", ""); err == nil {
		t.Fatal("an empty id was claimed")
	}
	// Claimed by another transaction after this one began.
	tx, err := db.BeginTx(ctx, &sql.TxOptions{Isolation: sql.LevelReadCommitted})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT msg_id FROM inbox WHERE consumer = 'c' AND msg_id = 'e'`); err != nil {
		t.Fatal(err)
	}
	if fresh, err := claim("e"); err != nil || !fresh[0] {
		t.Fatalf("claim e: %v %v", fresh, err)
	}
	if _, err := inbox.ClaimAll(ctx, tx, "c", []string{"e"}); err != nil {
		t.Fatalf("e is claimed: the read must see it and claim nothing: %v", err)
	}
}
