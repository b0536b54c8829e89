package app

import (
	"context"
	"time"
)

// PollTrades queries the channel for pending trades whose callback is late
// (the pay-poll cron binding), backing off per trade up to a minute.
func (s *Service) PollTrades(ctx context.Context) (succeeded int, err error) {
	due, err := s.repo.DuePolls(ctx, s.now(), 100)
	if err != nil {
		return 0, err
	}
	for _, t := range due {
		ad, ok := s.channels[t.Channel()]
		if !ok {
			continue
		}
		done, err := s.confirmTrade(ctx, ad, t)
		if err != nil {
			s.log.Warn("poll trade", "trade", t.ID(), "err", err)
		}
		if done {
			succeeded++
			continue
		}
		if err := s.repo.PollLater(ctx, t.ID(), s.now().Add(backoff(t.PollCount(), s.cfg.PollAfter, time.Minute))); err != nil {
			return succeeded, err
		}
	}
	return succeeded, nil
}
