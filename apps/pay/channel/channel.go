// Package channel holds PAY's adapters to the cash channels (the notes'
// Clearing and PayCenter parts): one Go interface, one implementation per
// channel with that channel's own request shapes and signature scheme.
//
// Adapters reach the channels only through Dapr service invocation (an
// Invoker, in production app.Invoker), addressed to an app id from config
// (HARVEST_CHANNEL_APP, default "partners", the local stand-ins). In
// production that id names a Dapr HTTPEndpoint resource pointing at the
// real channel's base URL, so swapping the stand-in for WeChat Pay or Alipay
// is a config change and PAY never holds a direct URL.
package channel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Invoker is Dapr service invocation as PAY uses it (*daprx.Invoker fits).
type Invoker interface {
	Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error
}

// TradeState is a trade's state as a channel reports it.
type TradeState string

// Trade states, normalised across channels.
const (
	TradeWaiting TradeState = "WAITING" // created, not paid
	TradePaid    TradeState = "PAID"
	TradeClosed  TradeState = "CLOSED" // expired or closed unpaid
)

// RefundState is a refund's state as a channel reports it.
type RefundState string

// Refund states, normalised across channels.
const (
	RefundProcessing RefundState = "PROCESSING"
	RefundSucceeded  RefundState = "SUCCEEDED"
	RefundFailed     RefundState = "FAILED"
)

// NotifyKind says what a callback is about.
type NotifyKind string

// Callback kinds.
const (
	NotifyPayment NotifyKind = "PAYMENT"
	NotifyRefund  NotifyKind = "REFUND"
)

// CreateRequest opens a trade at the channel.
type CreateRequest struct {
	TradeNo    string // our out_trade_no (the trade id)
	AmountFen  int64
	Subject    string
	TimeExpire time.Time // the channel refuses payment after it
}

// CreateResult is where to send the customer.
type CreateResult struct {
	ChannelTradeNo string
	CashierURL     string
}

// QueryResult is a trade as the channel sees it.
type QueryResult struct {
	State          TradeState
	ChannelTradeNo string
	AmountFen      int64
	PaidAt         time.Time
}

// RefundRequest asks the channel to give money back.
type RefundRequest struct {
	TradeNo   string
	RefundNo  string // our refund id, the channel's idempotency key
	AmountFen int64
	TotalFen  int64
	Reason    string
}

// RefundResult is a refund as the channel sees it.
type RefundResult struct{ State RefundState }

// Notification is a verified callback: it only tells PAY what to go and
// query; nothing in it is believed on its own.
type Notification struct {
	Kind     NotifyKind
	ID       string
	TradeNo  string
	RefundNo string
}

// Adapter is one cash channel.
type Adapter interface {
	Name() string
	Create(ctx context.Context, r CreateRequest) (CreateResult, error)
	Query(ctx context.Context, tradeNo string) (QueryResult, error)
	Refund(ctx context.Context, r RefundRequest) (RefundResult, error)
	QueryRefund(ctx context.Context, tradeNo, refundNo string) (RefundResult, error)
	// VerifyCallback checks a callback's signature (and freshness) and
	// returns what it names; ErrBadSignature when it is forged.
	VerifyCallback(body []byte) (Notification, error)
	// Ack is the answer the channel expects for a callback it may stop sending.
	Ack() (contentType string, body []byte)
}

// Errors adapters return.
var (
	ErrBadSignature = errors.New("channel: bad signature")
	ErrUnknownTrade = errors.New("channel: trade unknown to the channel")
	// ErrCurrency: the channel reports a payment in a currency PAY did not
	// ask for; it is not believed.
	ErrCurrency = errors.New("channel: payment not in the trade's currency")
)

// The development stack's merchant credentials, shared with the partners
// stand-in's defaults (PARTNERS_WECHAT_*, PARTNERS_ALIPAY_*). They are
// public: production refuses them (apps/pay/payconfig).
const (
	DevWechatMchID = "1900000109"
	DevWechatAppID = "wxharvest0001"
	DevWechatKey   = "dev-wechat-key-change-me"
	DevAlipayAppID = "2021000000000001"
	DevAlipayKey   = "dev-alipay-key-change-me"
)

// Config holds the merchant credentials (symmetric secrets) per channel.
type Config struct {
	App string // Dapr app id (or HTTPEndpoint name) of the channels
	// WechatApp and AlipayApp address one channel each (default App): in
	// production two HTTPEndpoints, since the real channels are two hosts.
	WechatApp   string
	AlipayApp   string
	WechatMchID string
	WechatAppID string
	WechatKey   string
	AlipayAppID string
	AlipayKey   string
	// CallbackMaxAge bounds how old a signed callback may be (replay window).
	CallbackMaxAge time.Duration
	Now            func() time.Time
}

// NewSet returns the adapters by channel name (payclient.ChannelWechat, ChannelAlipay).
func NewSet(inv Invoker, cfg Config) map[string]Adapter {
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return time.Now().UTC() }
	}
	if cfg.CallbackMaxAge <= 0 {
		cfg.CallbackMaxAge = 10 * time.Minute
	}
	wechat, alipay := cfg, cfg
	if cfg.WechatApp != "" {
		wechat.App = cfg.WechatApp
	}
	if cfg.AlipayApp != "" {
		alipay.App = cfg.AlipayApp
	}
	return map[string]Adapter{
		"WECHAT": &Wechat{inv: inv, cfg: wechat},
		"ALIPAY": &Alipay{inv: inv, cfg: alipay},
	}
}

// FormatYuan renders fen as the yuan string Alipay-like channels speak ("12.05").
func FormatYuan(fen int64) string {
	return fmt.Sprintf("%d.%02d", fen/100, fen%100)
}

// ParseYuan reads a yuan string exactly (no floats): "12", "12.5", "12.05".
func ParseYuan(s string) (int64, error) {
	whole, frac, _ := strings.Cut(strings.TrimSpace(s), ".")
	if whole == "" || len(frac) > 2 {
		return 0, fmt.Errorf("bad yuan amount %q", s)
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || w < 0 {
		return 0, fmt.Errorf("bad yuan amount %q", s)
	}
	for len(frac) < 2 {
		frac += "0"
	}
	f, err := strconv.ParseInt(frac, 10, 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("bad yuan amount %q", s)
	}
	return w*100 + f, nil
}
