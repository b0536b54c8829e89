package inbox_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/inbox"
	"github.com/harvest/harvest/apps/platform/sqltx"
	"github.com/harvest/harvest/apps/platform/testdb"
)

func claim(t *testing.T, db *sql.DB, consumer, msgID string) bool {
	t.Helper()
	var first bool
	err := sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
		var err error
		first, err = inbox.Claim(context.Background(), tx, consumer, msgID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return first
}

// claimAged claims n messages of consumer and backdates them by age.
func claimAged(t *testing.T, db *sql.DB, consumer, prefix string, n int, age time.Duration) {
	t.Helper()
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("%s-%05d", prefix, i)
	}
	err := sqltx.Run(context.Background(), db, func(tx *sql.Tx) error {
		if _, err := inbox.ClaimAll(context.Background(), tx, consumer, ids); err != nil {
			return err
		}
		_, err := tx.Exec(`UPDATE inbox SET received_at = ? WHERE consumer = ? AND msg_id LIKE ?`,
			time.Now().UTC().Add(-age), consumer, prefix+"-%")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, db *sql.DB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM inbox WHERE `+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// Claims past the retention go, in several bounded batches, with several
// pruners at once; recent claims stay, and a redelivered recent message is
// still a repeat.
func TestPruneDeletesOnlyOldClaimsConcurrently(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	claimAged(t, db, "a", "old", 2500, 8*24*time.Hour)
	claimAged(t, db, "b", "old", 700, 30*24*time.Hour)
	claimAged(t, db, "a", "edge", 300, 6*24*time.Hour) // inside the week: kept
	if !claim(t, db, "a", "recent") {
		t.Fatal("first claim of recent")
	}

	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int64
	)
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := inbox.Pruner{DB: db, Batch: 400, Pause: time.Millisecond}.Prune(context.Background())
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}()
	}
	wg.Wait()
	if total != 3200 {
		t.Fatalf("pruners deleted %d claims in all, want 3200", total)
	}
	if n := count(t, db, `msg_id LIKE 'old-%'`); n != 0 {
		t.Fatalf("%d old claims left", n)
	}
	if n := count(t, db, `msg_id LIKE 'edge-%' OR msg_id = 'recent'`); n != 301 {
		t.Fatalf("%d recent claims left, want 301", n)
	}
	if claim(t, db, "a", "recent") || claim(t, db, "a", "edge-00042") {
		t.Fatal("a recent message redelivered after pruning was applied again")
	}
	if n, err := (inbox.Pruner{DB: db}).Prune(context.Background()); err != nil || n != 0 {
		t.Fatalf("second prune: %d, %v", n, err)
	}
}

// A retention inside the broker's redelivery window would let a late copy
// of a message be applied twice: the pruner refuses it.
func TestPruneRefusesShortRetention(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	claimAged(t, db, "a", "old", 10, 48*time.Hour)
	p := inbox.Pruner{DB: db, Retention: 24 * time.Hour}
	if _, err := p.Prune(context.Background()); !errors.Is(err, inbox.ErrRetentionTooShort) {
		t.Fatalf("prune: %v", err)
	}
	if err := p.Run(context.Background()); !errors.Is(err, inbox.ErrRetentionTooShort) {
		t.Fatalf("run: %v", err)
	}
	if n := count(t, db, `1`); n != 10 {
		t.Fatalf("%d claims left, want 10", n)
	}
}

// Run prunes at start and every round after, and stops with its context.
func TestPrunerRunsPeriodically(t *testing.T) {
	db, _ := testdb.New(t, "platform")
	claimAged(t, db, "a", "first", 5, 8*24*time.Hour)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- inbox.Pruner{DB: db, Every: 20 * time.Millisecond}.Run(ctx) }()
	waitFor := func(what string, ok func() bool) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); !ok(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s", what)
			}
		}
	}
	waitFor("the first round", func() bool { return count(t, db, `1`) == 0 })
	claimAged(t, db, "a", "later", 5, 8*24*time.Hour)
	waitFor("a later round", func() bool { return count(t, db, `1`) == 0 })
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop with its context")
	}
}
