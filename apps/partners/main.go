// Command partners runs the stand-ins for systems outside the company that
// Harvest reaches only through Dapr (app id "partners"): a WeChat-Pay-like
// and an Alipay-like payment channel and the finance system (FMS), with
// failure switches for tests. Production replaces it by pointing the
// callers' app ids at Dapr HTTPEndpoint resources for the real systems.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/harvest/harvest/apps/partners/sim"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/runtime"
)

func main() {
	if err := run(); err != nil {
		slog.Error("partners stopped", "err", err)
		os.Exit(1)
	}
}

func readConfig() (config.Base, sim.Config, error) {
	r := config.New()
	base := config.ReadBase(r, "partners", true)
	cfg := sim.Config{
		// Defaults match PAY's development defaults (HARVEST_WECHAT_*, HARVEST_ALIPAY_*).
		WechatMchID:   r.String("PARTNERS_WECHAT_MCHID", "1900000109"),
		WechatKey:     r.String("PARTNERS_WECHAT_KEY", "dev-wechat-key-change-me"),
		AlipayAppID:   r.String("PARTNERS_ALIPAY_APPID", "2021000000000001"),
		AlipayKey:     r.String("PARTNERS_ALIPAY_KEY", "dev-alipay-key-change-me"),
		PublicURL:     r.String("PARTNERS_PUBLIC_URL", "http://"+base.HTTPAddr),
		CallbackDelay: r.Duration("PARTNERS_CALLBACK_DELAY", time.Second),
		DuplicateRate: float64(r.Int("PARTNERS_DUPLICATE_PERCENT", 10)) / 100,
		RefundDelay:   r.Duration("PARTNERS_REFUND_DELAY", 2*time.Second),
		AuditDelay:    r.Duration("PARTNERS_AUDIT_DELAY", 3*time.Second),
		AuditAuto:     r.Bool("PARTNERS_AUDIT_AUTO", true),
		MaxAttempts:   r.Int("PARTNERS_CALLBACK_ATTEMPTS", 15),
		Tick:          r.Duration("PARTNERS_TICK", 200*time.Millisecond),
		PayApp:        r.String("PARTNERS_PAY_APP", "pay"),
	}
	return base, cfg, r.Err()
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	base, cfg, err := readConfig()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a, err := runtime.New(ctx, base)
	if err != nil {
		return err
	}
	s := sim.New(a.DB, a.Invoker, clock.System{}, cfg, a.Logger)
	s.Mount(a.Mux)
	a.Go(s.Run)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
