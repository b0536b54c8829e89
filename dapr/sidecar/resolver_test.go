package main

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"

	"github.com/dapr/components-contrib/nameresolution"
	"github.com/dapr/kit/logger"
)

// TestContribCleanupDeletesLiveRows is why dapr/config.yaml sets the sqlite
// resolver's cleanupInterval to "0": components-contrib's garbage collector
// (v1.14, and still v1.18.0, nameresolution/sqlite/sqlite.go) deletes the
// rows renewed within updateInterval (`last_update < interval`), that is
// the LIVE registrations, and a sidecar whose row is gone dies with "Host
// registration lost". With cleanup off the row stays. If this test fails
// because the row survives the collector, contrib has fixed the query and
// the collector can be switched back on.
func TestContribCleanupDeletesLiveRows(t *testing.T) {
	for _, tc := range []struct {
		cleanup  string
		wantRows int
	}{{"1s", 0}, {"0", 1}} {
		t.Run("cleanupInterval="+tc.cleanup, func(t *testing.T) {
			db := filepath.Join(t.TempDir(), "nr.db")
			r := newCachedSQLite(logger.NewLogger("test"))
			err := r.Init(context.Background(), nameresolution.Metadata{
				Instance: nameresolution.Instance{AppID: "a", Address: "127.0.0.1", DaprInternalPort: 50002},
				Configuration: map[string]string{
					"connectionString": db,
					"updateInterval":   "15s",
					"timeout":          "5s",
					"cleanupInterval":  tc.cleanup,
				},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer r.(*cachedSQLite).Close()
			conn, err := sql.Open("sqlite", "file:"+db)
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			count := func() int {
				var n int
				if err := conn.QueryRow(`SELECT count(*) FROM hosts WHERE app_id = 'a'`).Scan(&n); err != nil {
					t.Fatal(err)
				}
				return n
			}
			if n := count(); n != 1 {
				t.Fatalf("%d rows after Init, want this sidecar's 1", n)
			}
			time.Sleep(3 * time.Second) // a few collector periods
			if n := count(); n != tc.wantRows {
				t.Fatalf("cleanupInterval %s: %d live rows left, want %d", tc.cleanup, n, tc.wantRows)
			}
		})
	}
}
