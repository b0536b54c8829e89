package load

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// AfterSalesPushBaseline is the cancels run's baseline: after-sales' push
// rows as the reverse flow wrote them (read from its database, from),
// copied PENDING into a scratch database of after-sales' schema on
// server, then each marked DONE with one UPDATE, workers at once — what
// the order-push table itself costs per push with no worker, listing,
// lease, per-order ordering or receiver (BenchmarkPushes' baseline, on the
// run's own rows).
func AfterSalesPushBaseline(ctx context.Context, server string, from *sql.DB, workers int) (Rate, error) {
	db, drop, err := scratchDB(ctx, server, "aftersales", workers)
	if err != nil {
		return Rate{}, err
	}
	defer drop()
	rows, err := from.QueryContext(ctx, `SELECT push_id, type, order_id, request_id, payload, created_at FROM pushes ORDER BY id`)
	if err != nil {
		return Rate{}, err
	}
	var copied [][]any
	for rows.Next() {
		var pushID, kind, order, request string
		var payload []byte
		var created time.Time
		if err := rows.Scan(&pushID, &kind, &order, &request, &payload, &created); err != nil {
			rows.Close()
			return Rate{}, err
		}
		copied = append(copied, []any{pushID, kind, order, request, payload, created, created, created})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Rate{}, err
	}
	const batch = 500
	for i := 0; i < len(copied); i += batch {
		part := copied[i:min(i+batch, len(copied))]
		var args []any
		for _, r := range part {
			args = append(args, r...)
		}
		q := `INSERT INTO pushes (push_id, type, order_id, request_id, payload, status, due_at, lease_until, created_at) VALUES ` +
			strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,'PENDING',?,?,?),", len(part)), ",")
		if _, err := db.ExecContext(ctx, q, args...); err != nil {
			return Rate{}, fmt.Errorf("baseline: copy the pushes: %w", err)
		}
	}
	var seqs []int64
	idRows, err := db.QueryContext(ctx, `SELECT id FROM pushes ORDER BY id`)
	if err != nil {
		return Rate{}, err
	}
	for idRows.Next() {
		var id int64
		if err := idRows.Scan(&id); err != nil {
			idRows.Close()
			return Rate{}, err
		}
		seqs = append(seqs, id)
	}
	idRows.Close()
	if err := idRows.Err(); err != nil {
		return Rate{}, err
	}
	var next, errs atomic.Int64
	lat := make([][]time.Duration, workers)
	start := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= int64(len(seqs)) || ctx.Err() != nil {
					return
				}
				t := time.Now()
				res, err := db.ExecContext(ctx, `UPDATE pushes SET status='DONE', result='ok', done_at=? WHERE id=? AND status='PENDING'`, time.Now().UTC(), seqs[i])
				if err == nil {
					if n, _ := res.RowsAffected(); n != 1 {
						err = fmt.Errorf("push %d was not PENDING", seqs[i])
					}
				}
				if err != nil {
					errs.Add(1)
					continue
				}
				lat[w] = append(lat[w], time.Since(t))
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	s := Summarize(all)
	return Rate{Name: "baseline: mariadb push marked DONE", Ops: int64(len(all)), Errors: errs.Load(), Elapsed: elapsed,
		P50: s.P50, P95: s.P95, P99: s.P99, Max: s.Max}, nil
}
