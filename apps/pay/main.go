// Command pay is PAY, the payment service: non-cash accounts and
// deductions, cash payments through the channels, refunds, and pushes to
// finance. main wires configuration, the runtime, the use cases and the
// routes; everything else lives in the subpackages.
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

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/pay/api"
	"github.com/harvest/harvest/apps/pay/app"
	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/pay/store"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/config"
	"github.com/harvest/harvest/apps/platform/runtime"
)

func main() {
	if err := run(); err != nil {
		slog.Error("pay stopped", "err", err)
		os.Exit(1)
	}
}

// Config is PAY's configuration.
type Config struct {
	Base config.Base
	// ChannelApp is the Dapr app id the channel adapters invoke
	// (HARVEST_CHANNEL_APP, default "partners", the local stand-ins). In
	// production it names a Dapr HTTPEndpoint resource for the real
	// channel, so PAY never holds a channel's URL.
	ChannelApp string
	// FinanceApp is the same for FMS (HARVEST_FINANCE_APP, default ChannelApp).
	FinanceApp    string
	Channel       channel.Config
	HoldBound     time.Duration
	PollAfter     time.Duration
	Seed          bool
	SeedCustomers int
}

func readConfig() (Config, error) {
	r := config.New()
	c := Config{Base: config.ReadBase(r, "pay", true)}
	c.ChannelApp = r.String("HARVEST_CHANNEL_APP", "partners")
	c.FinanceApp = r.String("HARVEST_FINANCE_APP", c.ChannelApp)
	// Development defaults match partners' defaults; production must set its own.
	dev := c.Base.Development()
	secret := func(key, def string) string {
		if dev {
			return r.String(key, def)
		}
		return r.Required(key)
	}
	c.Channel = channel.Config{
		App:            c.ChannelApp,
		WechatMchID:    r.String("HARVEST_WECHAT_MCHID", "1900000109"),
		WechatAppID:    r.String("HARVEST_WECHAT_APPID", "wxharvest0001"),
		WechatKey:      secret("HARVEST_WECHAT_KEY", "dev-wechat-key-change-me"),
		AlipayAppID:    r.String("HARVEST_ALIPAY_APPID", "2021000000000001"),
		AlipayKey:      secret("HARVEST_ALIPAY_KEY", "dev-alipay-key-change-me"),
		CallbackMaxAge: r.Duration("HARVEST_CALLBACK_MAX_AGE", 10*time.Minute),
	}
	c.HoldBound = r.Duration("HARVEST_DEDUCTION_HOLD", 15*time.Minute)
	c.PollAfter = r.Duration("HARVEST_POLL_AFTER", 5*time.Second)
	c.Seed = r.Bool("HARVEST_SEED", true)
	c.SeedCustomers = r.Int("HARVEST_SEED_CUSTOMERS", 100)
	return c, r.Err()
}

func run() error {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	cfg, err := readConfig()
	if err != nil {
		return fmt.Errorf("config: %w", err)
	}
	a, err := runtime.New(ctx, cfg.Base)
	if err != nil {
		return err
	}
	channels := channel.NewSet(a.Invoker, cfg.Channel)
	svc := app.New(store.New(a.DB), omsclient.New(a.Invoker), channels, a.Invoker, clock.System{}, a.Relay.Notify, a.Logger,
		app.Config{HoldBound: cfg.HoldBound, PollAfter: cfg.PollAfter, FinanceApp: cfg.FinanceApp})
	api.Mount(a.Mux, svc)
	if err := api.Subscribe(a.Service, cfg.Base.PubSub, svc); err != nil {
		return err
	}
	if err := api.Bindings(a.Service, svc); err != nil {
		return err
	}
	if cfg.Seed {
		seeded, err := svc.Seed(ctx, cfg.SeedCustomers)
		if err != nil {
			return fmt.Errorf("seed: %w", err)
		}
		if seeded {
			a.Logger.Info("seeded accounts", "customers", cfg.SeedCustomers)
		}
	}
	a.Go(svc.Run)
	if err := a.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return err
	}
	return nil
}
