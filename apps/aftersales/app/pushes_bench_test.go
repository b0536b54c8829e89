package app_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/aftersales/app"
	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/platform/ids"
)

// BenchmarkPushes is the order-push table's own cost per push: b.N pushes
// of 1,000 orders written, then delivered by one type's worker (16 at
// once) to a receiver that answers at once, each marked DONE. Its
// baseline in the same run is the same rows written and marked DONE with
// one UPDATE each and no worker: what the table costs without the
// listing, leases and per-order ordering. Compare the pushes/s.
func BenchmarkPushes(b *testing.B) {
	st := pushStore(b)
	ctx := context.Background()
	write := func(n int) {
		b.Helper()
		const batch = 200
		for i := 0; i < n; i += batch {
			var ps []domain.NewPush
			for j := i; j < min(i+batch, n); j++ {
				p, err := domain.MakePush(ids.New(), domain.PushRefundVoucher, fmt.Sprintf("O%04d", j%1000), "R1", map[string]int{"n": j})
				if err != nil {
					b.Fatal(err)
				}
				ps = append(ps, p)
			}
			if err := st.AddPushes(ctx, time.Now().UTC(), ps...); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("worker", func(b *testing.B) {
		if _, err := st.DB().Exec(`DELETE FROM pushes`); err != nil {
			b.Fatal(err)
		}
		write(b.N)
		ps := app.NewPushers(st, app.PushOptions{})
		ps.Handle(domain.PushRefundVoucher, 16, func(context.Context, domain.Push) (app.Delivery, error) { return app.Delivery{Result: "ok"}, nil })
		b.ResetTimer()
		start := time.Now()
		done := 0
		for done < b.N {
			n, err := ps.Pass(ctx, domain.PushRefundVoucher)
			if err != nil {
				b.Fatal(err)
			}
			done += n
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pushes/s")
	})
	b.Run("baseline", func(b *testing.B) {
		if _, err := st.DB().Exec(`DELETE FROM pushes`); err != nil {
			b.Fatal(err)
		}
		write(b.N)
		rows, err := st.DB().Query(`SELECT id FROM pushes WHERE status='PENDING'`)
		if err != nil {
			b.Fatal(err)
		}
		var seqs []int64
		for rows.Next() {
			var id int64
			_ = rows.Scan(&id)
			seqs = append(seqs, id)
		}
		rows.Close()
		b.ResetTimer()
		start := time.Now()
		for _, id := range seqs {
			if _, err := st.DB().Exec(`UPDATE pushes SET status='DONE', result='ok', done_at=? WHERE id=? AND status='PENDING'`, time.Now().UTC(), id); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "pushes/s")
	})
}
