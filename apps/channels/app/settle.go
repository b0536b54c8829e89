package app

import (
	"context"
	"time"

	"github.com/harvest/harvest/apps/channels/domain"
)

// Settle closes the statements of every period that has ended with
// outcomes not yet settled (the settlement job, on the cron binding
// channels-settle): per business customer and period kind, the period
// before the current one (Asia/Shanghai). A closed statement never
// changes; what is recorded after its close goes to the next one.
func (s *Service) Settle(ctx context.Context) (closed int, err error) {
	pairs, err := s.d.Store.Unsettled(ctx)
	if err != nil {
		return 0, err
	}
	now := s.d.Clock.Now()
	for _, p := range pairs {
		cur, _ := domain.PeriodOf(p[1], now.In(shanghaiZone))
		start, end := domain.PeriodOf(p[1], cur.AddDate(0, 0, -1))
		_, created, err := s.d.Store.CloseStatement(ctx, p[0], p[1], start, end, s.now(), 5*time.Second)
		if err != nil {
			return closed, err
		}
		if created {
			closed++
		}
	}
	return closed, nil
}

var shanghaiZone = time.FixedZone("Asia/Shanghai", 8*3600)

// Statements are a customer's closed statements, newest first, after the
// open one of each period kind it has (what stands since the last close).
func (s *Service) Statements(ctx context.Context, customer string) ([]*domain.Statement, error) {
	closed, err := s.d.Store.Statements(ctx, customer)
	if err != nil {
		return nil, err
	}
	var out []*domain.Statement
	now := s.d.Clock.Now().In(shanghaiZone)
	for _, k := range []string{domain.PeriodMonthly, domain.PeriodQuarterly, domain.PeriodYearly} {
		o, err := s.d.Store.Open(ctx, customer, k)
		if err != nil {
			return nil, err
		}
		if o.Plans > 0 {
			o.Start, o.End = domain.PeriodOf(k, now)
			out = append(out, o)
		}
	}
	return append(out, closed...), nil
}
