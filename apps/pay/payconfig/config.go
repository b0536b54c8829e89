// Package payconfig reads PAY's configuration from the environment. In
// development it falls back to the partners stand-in (app id "partners")
// and its public merchant keys; production has no such fallback: each
// channel's endpoint, merchant ids and keys must be configured, and the
// development keys (or any key shorter than 32 bytes) are refused. It lives
// outside package main so the Kubernetes manifests' test (deploy/k8s) can
// run PAY's own reader against the environment its Deployment gives it.
package payconfig

import (
	"fmt"
	"time"

	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/platform/config"
)

// StandInApp is the partners stand-in's app id, PAY's channel and finance
// endpoint in development only.
const StandInApp = "partners"

// MinKeyBytes is the shortest merchant key production accepts (a WeChat Pay
// API v3 key is 32 bytes).
const MinKeyBytes = 32

// Config is PAY's configuration.
type Config struct {
	Base config.Base
	// ChannelApp is the Dapr app id the channel adapters invoke
	// (HARVEST_CHANNEL_APP; in development default StandInApp). In
	// production it names a Dapr HTTPEndpoint resource for the real
	// channel, so PAY never holds a channel's URL; HARVEST_WECHAT_APP and
	// HARVEST_ALIPAY_APP name one per channel instead (deploy/k8s/pay.yaml).
	ChannelApp string
	// FinanceApp is the same for FMS (HARVEST_FINANCE_APP, default ChannelApp).
	FinanceApp string
	Channel    channel.Config
	HoldBound  time.Duration
	PollAfter  time.Duration
	// RefundConcurrency bounds how many due refunds one replica moves at
	// once (HARVEST_PAY_REFUND_CONCURRENCY, default 16).
	RefundConcurrency int
	Seed              bool // HARVEST_SEED: development only
	SeedCustomers     int
}

// Read reads PAY's configuration and reports every bad variable at once.
func Read(r *config.Reader) (Config, error) {
	c := Config{Base: config.ReadBase(r, "pay", true)}
	dev := c.Base.Development()
	// In development every default is the stand-in's; production must name
	// its own.
	orDev := func(key, def string) string {
		if dev {
			return r.String(key, def)
		}
		return r.Required(key)
	}
	standIn := ""
	if dev {
		standIn = StandInApp
	}
	c.ChannelApp = r.String("HARVEST_CHANNEL_APP", standIn)
	c.FinanceApp = r.String("HARVEST_FINANCE_APP", c.ChannelApp)
	c.Channel = channel.Config{
		App:            c.ChannelApp,
		WechatApp:      r.String("HARVEST_WECHAT_APP", c.ChannelApp),
		AlipayApp:      r.String("HARVEST_ALIPAY_APP", c.ChannelApp),
		WechatMchID:    orDev("HARVEST_WECHAT_MCHID", channel.DevWechatMchID),
		WechatAppID:    orDev("HARVEST_WECHAT_APPID", channel.DevWechatAppID),
		WechatKey:      orDev("HARVEST_WECHAT_KEY", channel.DevWechatKey),
		AlipayAppID:    orDev("HARVEST_ALIPAY_APPID", channel.DevAlipayAppID),
		AlipayKey:      orDev("HARVEST_ALIPAY_KEY", channel.DevAlipayKey),
		CallbackMaxAge: r.Duration("HARVEST_CALLBACK_MAX_AGE", 10*time.Minute),
	}
	c.HoldBound = r.Duration("HARVEST_DEDUCTION_HOLD", 15*time.Minute)
	c.PollAfter = r.Duration("HARVEST_POLL_AFTER", 5*time.Second)
	c.RefundConcurrency = r.Int("HARVEST_PAY_REFUND_CONCURRENCY", 16)
	if c.RefundConcurrency < 1 {
		r.Refuse(fmt.Errorf("HARVEST_PAY_REFUND_CONCURRENCY is %d, at least 1", c.RefundConcurrency))
	}
	c.Seed = r.Seed(c.Base)
	c.SeedCustomers = r.Int("HARVEST_SEED_CUSTOMERS", 100)
	if err := r.Err(); err != nil {
		return c, err
	}
	if dev {
		return c, nil
	}
	for _, e := range []struct{ key, app string }{
		{"HARVEST_WECHAT_APP", c.Channel.WechatApp},
		{"HARVEST_ALIPAY_APP", c.Channel.AlipayApp},
		{"HARVEST_FINANCE_APP", c.FinanceApp},
	} {
		if e.app == "" {
			return c, fmt.Errorf("%s (or HARVEST_CHANNEL_APP) is required with HARVEST_ENV=%s: the stand-in is not a default outside development", e.key, c.Base.Env)
		}
	}
	for _, k := range []struct{ key, val, dev string }{
		{"HARVEST_WECHAT_KEY", c.Channel.WechatKey, channel.DevWechatKey},
		{"HARVEST_ALIPAY_KEY", c.Channel.AlipayKey, channel.DevAlipayKey},
	} {
		switch {
		case k.val == k.dev:
			return c, fmt.Errorf("%s is the public development key, refused with HARVEST_ENV=%s", k.key, c.Base.Env)
		case len(k.val) < MinKeyBytes:
			return c, fmt.Errorf("%s has %d bytes, production needs at least %d", k.key, len(k.val), MinKeyBytes)
		}
	}
	return c, nil
}
