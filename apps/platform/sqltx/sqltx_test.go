package sqltx_test

import (
	"context"
	"database/sql"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/platform/testdb"
)

// Two transactions lock two rows in opposite order: MariaDB kills one as a
// deadlock victim, Run retries it, and both updates land exactly once.
func TestRunRetriesDeadlockVictim(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	if _, err := db.Exec(`CREATE TABLE acc (id INT PRIMARY KEY, n INT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO acc VALUES (1,0),(2,0)`); err != nil {
		t.Fatal(err)
	}
	var attempts atomic.Int32
	firstLocked := make(chan struct{}, 2)
	proceed := make(chan struct{})
	run := func(a, b int) error {
		return sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
			n := attempts.Add(1)
			if _, err := tx.Exec(`UPDATE acc SET n = n + 1 WHERE id = ?`, a); err != nil {
				return err
			}
			if n <= 2 { // only the first two attempts rendezvous to force the deadlock
				firstLocked <- struct{}{}
				<-proceed
			}
			_, err := tx.Exec(`UPDATE acc SET n = n + 1 WHERE id = ?`, b)
			return err
		})
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	wg.Add(2)
	go func() { defer wg.Done(); errs[0] = run(1, 2) }()
	go func() { defer wg.Done(); errs[1] = run(2, 1) }()
	<-firstLocked
	<-firstLocked
	close(proceed)
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			t.Fatalf("run failed: %v", err)
		}
	}
	if attempts.Load() < 3 {
		t.Fatalf("expected a retry, attempts=%d", attempts.Load())
	}
	var s1, s2 int
	db.QueryRow(`SELECT n FROM acc WHERE id=1`).Scan(&s1)
	db.QueryRow(`SELECT n FROM acc WHERE id=2`).Scan(&s2)
	if s1 != 2 || s2 != 2 {
		t.Fatalf("rows %d,%d want 2,2", s1, s2)
	}
}
