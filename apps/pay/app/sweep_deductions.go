package app

import "context"

// SweepDeductions reverses held deductions older than the bound that no
// order uses, asking OMS first (the check-back). An unreachable OMS leaves
// them for the next sweep.
func (s *Service) SweepDeductions(ctx context.Context) (reversed int, err error) {
	held, err := s.repo.HeldBefore(ctx, s.now().Add(-s.cfg.HoldBound), 200)
	if err != nil {
		return 0, err
	}
	for _, id := range held {
		e, err := s.oms.ExistsForDeduction(ctx, id)
		if err != nil {
			s.log.Warn("deduction check-back failed; retry next sweep", "deduction", id, "err", err)
			continue
		}
		if e.Exists {
			if err := s.repo.MarkUsedWithoutOrder(ctx, id, s.now()); err != nil {
				return reversed, err
			}
			continue
		}
		ok, err := s.repo.Reverse(ctx, id, s.now())
		if err != nil {
			return reversed, err
		}
		if ok {
			reversed++
			s.log.Info("deduction reversed: no order used it", "deduction", id)
		}
	}
	if reversed > 0 {
		s.Wake()
	}
	return reversed, nil
}
