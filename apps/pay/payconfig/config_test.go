package payconfig

import (
	"strings"
	"testing"

	"github.com/harvest/harvest/apps/pay/channel"
	"github.com/harvest/harvest/apps/platform/config"
)

// prod is a complete production environment; cases spoil one variable.
func prod(edit func(map[string]string)) map[string]string {
	m := map[string]string{
		"HARVEST_ENV":          "production",
		"APP_API_TOKEN":        "app-api-token-0123456789abcdef0123456789",
		"DAPR_API_TOKEN":       "dapr-api-token-0123456789abcdef0123456789",
		"HARVEST_MYSQL_DSN":    "pay:pw@tcp(db:3306)/pay",
		"HARVEST_WECHAT_APP":   "wechatpay",
		"HARVEST_ALIPAY_APP":   "alipay",
		"HARVEST_FINANCE_APP":  "fms",
		"HARVEST_WECHAT_MCHID": "1230000109",
		"HARVEST_WECHAT_APPID": "wx8888888888888888",
		"HARVEST_WECHAT_KEY":   "w" + strings.Repeat("0123456789", 4),
		"HARVEST_ALIPAY_APPID": "2021004100000000",
		"HARVEST_ALIPAY_KEY":   "a" + strings.Repeat("0123456789", 4),
	}
	if edit != nil {
		edit(m)
	}
	return m
}

func TestProductionConfig(t *testing.T) {
	t.Parallel()
	c, err := Read(config.FromMap(prod(nil)))
	if err != nil {
		t.Fatal(err)
	}
	if c.Channel.WechatApp != "wechatpay" || c.Channel.AlipayApp != "alipay" || c.FinanceApp != "fms" || c.Seed {
		t.Fatalf("config = %+v", c)
	}
	// One endpoint for every outside system is still a choice production may make.
	c, err = Read(config.FromMap(prod(func(m map[string]string) {
		delete(m, "HARVEST_WECHAT_APP")
		delete(m, "HARVEST_ALIPAY_APP")
		delete(m, "HARVEST_FINANCE_APP")
		m["HARVEST_CHANNEL_APP"] = "payment-gateway"
	})))
	if err != nil || c.Channel.WechatApp != "payment-gateway" || c.FinanceApp != "payment-gateway" {
		t.Fatalf("HARVEST_CHANNEL_APP: %+v, %v", c.Channel, err)
	}
}

// Production (also when HARVEST_ENV is unset) refuses the stand-in's
// public keys, short keys, missing keys and merchant ids, and has no
// default channel endpoint: the partners stand-in is development's only.
func TestProductionRefusesDefaultChannelKeysAndEndpoints(t *testing.T) {
	t.Parallel()
	cases := map[string]func(map[string]string){
		"env unset, dev keys": func(m map[string]string) {
			delete(m, "HARVEST_ENV")
			m["HARVEST_WECHAT_KEY"], m["HARVEST_ALIPAY_KEY"] = channel.DevWechatKey, channel.DevAlipayKey
		},
		"dev wechat key":      func(m map[string]string) { m["HARVEST_WECHAT_KEY"] = channel.DevWechatKey },
		"dev alipay key":      func(m map[string]string) { m["HARVEST_ALIPAY_KEY"] = channel.DevAlipayKey },
		"short wechat key":    func(m map[string]string) { m["HARVEST_WECHAT_KEY"] = "k" },
		"short alipay key":    func(m map[string]string) { m["HARVEST_ALIPAY_KEY"] = strings.Repeat("k", 31) },
		"no wechat key":       func(m map[string]string) { delete(m, "HARVEST_WECHAT_KEY") },
		"no alipay key":       func(m map[string]string) { delete(m, "HARVEST_ALIPAY_KEY") },
		"no wechat mchid":     func(m map[string]string) { delete(m, "HARVEST_WECHAT_MCHID") },
		"no alipay appid":     func(m map[string]string) { delete(m, "HARVEST_ALIPAY_APPID") },
		"no wechat endpoint":  func(m map[string]string) { delete(m, "HARVEST_WECHAT_APP") },
		"no alipay endpoint":  func(m map[string]string) { delete(m, "HARVEST_ALIPAY_APP") },
		"no finance endpoint": func(m map[string]string) { delete(m, "HARVEST_FINANCE_APP") },
		"seed in production":  func(m map[string]string) { m["HARVEST_SEED"] = "true" },
		"env neither nor":     func(m map[string]string) { m["HARVEST_ENV"] = "prod" },
	}
	for name, edit := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, err := Read(config.FromMap(prod(edit))); err == nil || !strings.Contains(err.Error(), "HARVEST_") {
				t.Fatalf("err = %v, want a refusal naming the variable", err)
			}
		})
	}
}

// Development keeps the stand-in and its keys as defaults, and seeds only
// when asked.
func TestDevelopmentDefaults(t *testing.T) {
	t.Parallel()
	c, err := Read(config.FromMap(withTokens(map[string]string{"HARVEST_ENV": "development"})))
	if err != nil {
		t.Fatal(err)
	}
	if c.Channel.WechatApp != StandInApp || c.Channel.AlipayApp != StandInApp || c.FinanceApp != StandInApp ||
		c.Channel.WechatKey != channel.DevWechatKey || c.Channel.AlipayKey != channel.DevAlipayKey {
		t.Fatalf("development channel config = %+v", c.Channel)
	}
	if c.Seed {
		t.Fatal("PAY seeds by default")
	}
	c, err = Read(config.FromMap(withTokens(map[string]string{"HARVEST_ENV": "development", "HARVEST_SEED": "true"})))
	if err != nil || !c.Seed {
		t.Fatalf("HARVEST_SEED=true in development: seed %v, err %v", c.Seed, err)
	}
}

// withTokens adds the sidecar tokens every app needs (APP_API_TOKEN,
// DAPR_API_TOKEN), so a case fails only for what it spoils.
func withTokens(m map[string]string) map[string]string {
	out := map[string]string{
		"APP_API_TOKEN":  "app-api-token-0123456789abcdef0123456789",
		"DAPR_API_TOKEN": "dapr-api-token-0123456789abcdef0123456789",
	}
	for k, v := range m {
		out[k] = v
	}
	return out
}
