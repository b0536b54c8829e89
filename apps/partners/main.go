// Command partners runs the stand-ins for systems outside the company that
// Harvest reaches only through Dapr (app id "partners"): a WeChat-Pay-like
// and an Alipay-like payment channel, the finance system (FMS), and the
// systems fulfillment calls (SMS, push, fraud score, presale purchasing,
// TMS, invoicing, drop-ship suppliers), with realistic latency and
// failure switches for tests. Production replaces it by pointing the
// callers' app ids at Dapr HTTPEndpoint resources for the real systems.
//
// Like those systems it has a public listener (PARTNERS_PUBLIC_ADDR): the
// cashier pages customers open, and the outside APIs OMS reaches through
// the HTTPEndpoint partners-outside, which authenticate it by the key in
// PARTNERS_OUTSIDE_KEY. What PAY invokes through the sidecars, and the
// admin routes tests use, stay on the sidecar-facing listener.
package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

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

// publicConfig is where the stand-in's public listener binds.
type publicConfig struct{ Addr string }

func readConfig() (config.Base, publicConfig, sim.Config, error) {
	r := config.New()
	base := config.ReadBase(r, "partners", true)
	pub := publicConfig{Addr: r.String("PARTNERS_PUBLIC_ADDR", "127.0.0.1:3001")}
	cfg := sim.Config{
		// Defaults match PAY's development defaults (HARVEST_WECHAT_*, HARVEST_ALIPAY_*).
		WechatMchID:   r.String("PARTNERS_WECHAT_MCHID", "1900000109"),
		WechatKey:     r.String("PARTNERS_WECHAT_KEY", "dev-wechat-key-change-me"),
		AlipayAppID:   r.String("PARTNERS_ALIPAY_APPID", "2021000000000001"),
		AlipayKey:     r.String("PARTNERS_ALIPAY_KEY", "dev-alipay-key-change-me"),
		PublicURL:     r.String("PARTNERS_PUBLIC_URL", "http://"+pub.Addr),
		OutsideKey:    r.String("PARTNERS_OUTSIDE_KEY", ""), // never logged
		CallbackDelay: r.Duration("PARTNERS_CALLBACK_DELAY", time.Second),
		DuplicateRate: float64(r.Int("PARTNERS_DUPLICATE_PERCENT", 10)) / 100,
		RefundDelay:   r.Duration("PARTNERS_REFUND_DELAY", 2*time.Second),
		AuditDelay:    r.Duration("PARTNERS_AUDIT_DELAY", 3*time.Second),
		AuditAuto:     r.Bool("PARTNERS_AUDIT_AUTO", true),
		MaxAttempts:   r.Int("PARTNERS_CALLBACK_ATTEMPTS", 15),
		Tick:          r.Duration("PARTNERS_TICK", 200*time.Millisecond),
		PayApp:        r.String("PARTNERS_PAY_APP", "pay"),
		BIPopulation:  r.Int("PARTNERS_BI_POPULATION", 100),
		BIFailRate:    float64(r.Int("PARTNERS_BI_FAIL_PERCENT", 5)) / 100,
		// Answer times of the outside systems fulfillment calls, by family.
		Latency: map[string]time.Duration{
			"sms":       r.Duration("PARTNERS_LATENCY_SMS", 20*time.Millisecond),
			"bi":        r.Duration("PARTNERS_LATENCY_BI", 200*time.Millisecond),
			"push":      r.Duration("PARTNERS_LATENCY_PUSH", 20*time.Millisecond),
			"fms":       r.Duration("PARTNERS_LATENCY_FMS", 30*time.Millisecond),
			"risk":      r.Duration("PARTNERS_LATENCY_RISK", 30*time.Millisecond),
			"presale":   r.Duration("PARTNERS_LATENCY_PRESALE", 30*time.Millisecond),
			"tms":       r.Duration("PARTNERS_LATENCY_TMS", 40*time.Millisecond),
			"invoice":   r.Duration("PARTNERS_LATENCY_INVOICE", 50*time.Millisecond),
			"suppliers": r.Duration("PARTNERS_LATENCY_SUPPLIERS", 40*time.Millisecond),
			"market":    r.Duration("PARTNERS_LATENCY_MARKET", 20*time.Millisecond),
		},
		Risk: sim.RiskRules{
			RejectCustomerPrefixes: list(r.String("PARTNERS_RISK_REJECT_PREFIXES", "FRAUD-")),
			ReviewCustomerPrefixes: list(r.String("PARTNERS_RISK_REVIEW_PREFIXES", "REVIEW-")),
			RejectAboveFen:         int64(r.Int("PARTNERS_RISK_REJECT_ABOVE_FEN", 0)),
			ReviewAboveFen:         int64(r.Int("PARTNERS_RISK_REVIEW_ABOVE_FEN", 5_000_000)), // 50,000 yuan
		},
		ExpressCarrier: r.String("PARTNERS_TMS_EXPRESS_CARRIER", "SF"),
		WMSApp:         r.String("PARTNERS_WMS_APP", "wms"),
		CollectDelay:   r.Duration("PARTNERS_TMS_COLLECT_DELAY", 2*time.Second),
		DeliverDelay:   r.Duration("PARTNERS_TMS_DELIVER_DELAY", 5*time.Second),
		RefuseRate:     float64(r.Int("PARTNERS_TMS_REFUSE_PERCENT", 0)) / 100,
		// 0: a drop-ship supplier ships only by hand, so a cancel can always
		// intercept there unless a test ships it (admin).
		SupplierShipDelay: r.Duration("PARTNERS_SUPPLIER_SHIP_DELAY", 0),
		ChannelsURL:       r.String("PARTNERS_CHANNELS_URL", "http://127.0.0.1:8090"),
		DouyinSkew:        r.Duration("PARTNERS_DOUYIN_SKEW", 90*time.Second),
		DouyinLag:         r.Duration("PARTNERS_DOUYIN_LAG", time.Second),
		YouzanSkew:        r.Duration("PARTNERS_YOUZAN_SKEW", -75*time.Second),
		YouzanLag:         r.Duration("PARTNERS_YOUZAN_LAG", 2*time.Second),
		YouzanTokenTTL:    r.Duration("PARTNERS_YOUZAN_TOKEN_TTL", 2*time.Hour),
	}
	// A stand-in with public keys that "pays" every trade must never run
	// where money is real: it starts only when development is asked for.
	if !base.Development() {
		r.Refuse(fmt.Errorf("partners is a development stand-in; it refuses HARVEST_ENV=%s", base.Env))
	}
	carriers, err := pairs(r.String("PARTNERS_TMS_CARRIERS", "")) // WAREHOUSE=CARRIER,…
	if err != nil {
		return base, pub, cfg, fmt.Errorf("PARTNERS_TMS_CARRIERS: %w", err)
	}
	cfg.Carriers = carriers
	return base, pub, cfg, r.Err()
}

// list splits a comma-separated value, dropping empty items.
func list(s string) []string {
	out := []string{}
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}

// pairs reads "k=v,k2=v2".
func pairs(s string) (map[string]string, error) {
	out := map[string]string{}
	for _, x := range list(s) {
		k, v, ok := strings.Cut(x, "=")
		if !ok || strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%q is not WAREHOUSE=CARRIER", x)
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, nil
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	base, pub, cfg, err := readConfig()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a, err := runtime.New(ctx, base)
	if err != nil {
		return err
	}
	s := sim.New(a.DB, a.Invoker, clock.System{}, cfg, a.Logger)
	s.Mount(a.Mux)
	public := chi.NewRouter()
	s.MountPublic(public)
	a.ServePublic(pub.Addr, public)
	if cfg.OutsideKey == "" {
		a.Logger.Warn("PARTNERS_OUTSIDE_KEY unset: the public listener refuses every outside API call")
	}
	a.Go(s.Run)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
