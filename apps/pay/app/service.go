// Package app holds PAY's use cases: non-cash deductions and their
// reversal, cash payments through the channel adapters, results by verified
// callback or by polling, refunds with the finance audit, and the pushes to
// finance. It talks to OMS and to the outside (channels, FMS) only through
// small interfaces, so tests run it against a real database and an
// in-process partners handler.
package app

import (
	"context"
	"log/slog"
	"time"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/clock"
)

// OMS is what PAY asks the order service (omsclient.Client fits).
type OMS interface {
	Payable(ctx context.Context, orderID string) (omsclient.Payability, error)
	ExistsForDeduction(ctx context.Context, deductionID string) (omsclient.Existence, error)
	// GetOrder is how PAY checks an event that would move money (an
	// order said to be cancelled) with the order's owner before acting.
	GetOrder(ctx context.Context, orderID string) (omsclient.Order, error)
}

// Wallet is what PAY needs of the coupon wallet (marketing); an adapter
// over marketingclient in main fits.
type Wallet interface {
	// HoldCoupons holds the customer's coupons for deduction holdID, all
	// or none, and answers their values; a refusal is a
	// *domain.CouponRefusedError with the wallet's code.
	HoldCoupons(ctx context.Context, holdID, customerID string, couponIDs []string) (map[string]domain.Coupon, error)
	// RecheckHold asks the wallet to settle a hold by PAY's word now.
	RecheckHold(ctx context.Context, holdID string) error
}

// Config tunes the use cases; zero values take the defaults.
type Config struct {
	// HoldBound is how long a deduction may wait for its order before the
	// sweep asks OMS and reverses it (default 15 min).
	HoldBound time.Duration
	// PollAfter is how long a trade waits for its callback before PAY
	// starts polling the channel (default 5 s).
	PollAfter time.Duration
	// FinanceApp is the Dapr app id (or HTTPEndpoint) of FMS (default "partners").
	FinanceApp string
	// RefundConcurrency bounds how many due refunds a pass moves at once,
	// each through its own channel or finance calls (default 16).
	RefundConcurrency int
}

// Service runs PAY's use cases.
type Service struct {
	repo     Repository
	oms      OMS
	wallet   Wallet
	channels map[string]channel.Adapter
	inv      channel.Invoker
	clock    clock.Clock
	notify   func()
	log      *slog.Logger
	cfg      Config
	wake     chan struct{}
}

// New returns a Service over repo (apps/pay/store). notify wakes the
// outbox relay after a commit that wrote events (nil in tests that read
// the outbox table).
func New(repo Repository, oms OMS, wallet Wallet, channels map[string]channel.Adapter, inv channel.Invoker, clk clock.Clock,
	notify func(), log *slog.Logger, cfg Config) *Service {
	if cfg.HoldBound <= 0 {
		cfg.HoldBound = 15 * time.Minute
	}
	if cfg.PollAfter <= 0 {
		cfg.PollAfter = 5 * time.Second
	}
	if cfg.RefundConcurrency <= 0 {
		cfg.RefundConcurrency = 16
	}
	if cfg.FinanceApp == "" {
		cfg.FinanceApp = "partners"
	}
	if notify == nil {
		notify = func() {}
	}
	if log == nil {
		log = slog.Default()
	}
	return &Service{repo: repo, oms: oms, wallet: wallet, channels: channels, inv: inv, clock: clk, notify: notify, log: log, cfg: cfg,
		wake: make(chan struct{}, 1)}
}

// now is truncated to what DATETIME(6) keeps, so a first answer and a
// repeat read back from the database carry the same times.
func (s *Service) now() time.Time { return s.clock.Now().UTC().Truncate(time.Microsecond) }

// Wake asks the background worker for a pass now (a refund or push is waiting).
func (s *Service) Wake() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run is the background worker: it submits and confirms refunds and sends
// finance pushes, every second or when woken, until ctx is done.
func (s *Service) Run(ctx context.Context) error {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		case <-s.wake:
		}
		// Pushes first: a refund audit must reach finance before PAY asks about it.
		if err := s.SendPushes(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("finance push pass", "err", err)
		}
		if err := s.ProcessRefunds(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("refund pass", "err", err)
		}
	}
}

func backoff(n int, base, max time.Duration) time.Duration {
	d := base
	for i := 0; i < n && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d
}
