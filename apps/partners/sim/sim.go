// Package sim is the behaviour of the stand-ins for systems outside the
// company: for PAY, a WeChat-Pay-like and an Alipay-like channel (create,
// cashier, query, refund with asynchronous completion, signed asynchronous
// callbacks with delay, duplicates and retries) and a finance system, FMS
// (received-amount pushes, payment vouchers, refund audits that are
// approved after a delay or by hand); for fulfillment (partnersclient),
// SMS, push, finance payment vouchers, fraud scoring, presale purchasing,
// TMS waybills, invoicing and drop-ship suppliers, each deduplicating by
// its caller's id (outside.go). State lives in MariaDB so it survives
// restarts like a real counterpart; failure switches make any named API
// slow, failing or dropping callbacks for tests.
//
// It is one package, not the domain/app/store layering of Harvest's own
// apps, on purpose: it is a simulator of other companies' systems whose
// only contract is the wire protocol, and keeping each protocol in one file
// keeps that protocol readable. The protocols are written independently of
// PAY's adapters (apps/pay/channel), as a real counterpart's would be.
package sim

import (
	"context"
	"database/sql"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/channels/platforms"
	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/fresh"
	"github.com/harvest/harvest/apps/platform/group"
	"github.com/harvest/harvest/apps/platform/sqltx"
)

// Invoker is Dapr service invocation through partners' own sidecar
// (*daprx.Invoker fits); callbacks to PAY go through it.
type Invoker interface {
	Invoke(ctx context.Context, app, httpMethod, method string, in, out any) error
}

// Config is the simulators' behaviour.
type Config struct {
	WechatMchID string
	WechatKey   string
	AlipayAppID string
	AlipayKey   string
	// PublicURL is where customers reach the cashier pages: the public
	// listener (MountPublic).
	PublicURL string
	// OutsideKey is the API key the outside APIs require on the public
	// listener, in OutsideKeyHeader (the HTTPEndpoint partners-outside
	// adds it to OMS's calls); empty refuses every such call there.
	OutsideKey string
	// CallbackDelay is how long after a payment or refund the first
	// callback goes out.
	CallbackDelay time.Duration
	// DuplicateRate is the share of delivered callbacks sent a second time.
	DuplicateRate float64
	// RefundDelay is how long a channel takes to complete a refund.
	RefundDelay time.Duration
	// AuditDelay is how long finance takes to approve a refund audit;
	// AuditAuto false leaves every audit to the approve/reject endpoints.
	AuditDelay time.Duration
	AuditAuto  bool
	// MaxAttempts bounds callback retries, like a real channel's schedule.
	MaxAttempts int
	// Tick is how often the background worker runs.
	Tick time.Duration
	// MaxSkew bounds the age of a signed request's timestamp.
	MaxSkew time.Duration
	// PayApp is PAY's Dapr app id, where finance's audit callbacks go.
	PayApp string
	// Latency is how long each outside API fulfillment calls takes to
	// answer (±20%), by API name ("tms.waybills") or family ("tms");
	// missing or zero answers at once.
	Latency map[string]time.Duration
	// Risk is the fraud service's configured rules (POST /admin/risk-rules
	// overrides them at run time); all empty, DefaultRiskRules hold.
	Risk RiskRules
	// Carriers maps a warehouse to its contracted carrier; ExpressCarrier
	// (default SF) takes express orders.
	Carriers       map[string]string
	ExpressCarrier string
	// WMSApp is WMS's Dapr app id, where TMS's tracking reports go;
	// CollectDelay and DeliverDelay are how long a parcel waits to be
	// collected after its import and delivered after that (±50%);
	// RefuseRate is the share of parcels the customer refuses at the door.
	WMSApp       string
	CollectDelay time.Duration
	DeliverDelay time.Duration
	RefuseRate   float64
	// SupplierShipDelay is how long a drop-ship supplier takes to ship a
	// delivery order after receiving it, from when an interception is too
	// late; zero ships only by hand (POST /admin/suppliers/orders/{id}/ship).
	SupplierShipDelay time.Duration
	// BIPopulation is how many users BI's audience export knows
	// (C0001…); BIFailRate the share of its pages that fail (503).
	BIPopulation int
	BIFailRate   float64
	// ChannelsURL is channels' public listener, where the marketplace
	// stand-ins push (marketplace.go); MarketKeys each platform's
	// credentials (platforms.DevKeys by default); DouyinSkew how far the
	// Douyin-like shop's clock runs ahead of this machine's, DouyinLag how
	// long its search takes to show a new order.
	ChannelsURL string
	MarketKeys  map[string]platforms.Keys
	DouyinSkew  time.Duration
	DouyinLag   time.Duration
	// YouzanSkew, YouzanLag are the Youzan-like shop's clock and index
	// lag, YouzanTokenTTL how long its access tokens last.
	YouzanSkew     time.Duration
	YouzanLag      time.Duration
	YouzanTokenTTL time.Duration
}

func (c *Config) defaults() {
	if c.CallbackDelay < 0 {
		c.CallbackDelay = 0
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 15
	}
	if c.Tick <= 0 {
		c.Tick = 200 * time.Millisecond
	}
	if c.MaxSkew <= 0 {
		c.MaxSkew = 5 * time.Minute
	}
	if c.PayApp == "" {
		c.PayApp = "pay"
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://127.0.0.1:3000"
	}
	if c.Risk.RejectCustomerPrefixes == nil && c.Risk.ReviewCustomerPrefixes == nil && c.Risk.RejectAboveFen == 0 && c.Risk.ReviewAboveFen == 0 {
		c.Risk = DefaultRiskRules()
	}
	if c.ExpressCarrier == "" {
		c.ExpressCarrier = "SF"
	}
	if c.WMSApp == "" {
		c.WMSApp = "wms"
	}
	if c.BIPopulation <= 0 {
		c.BIPopulation = 100
	}
	if c.YouzanTokenTTL <= 0 {
		c.YouzanTokenTTL = 2 * time.Hour
	}
	if c.MarketKeys == nil {
		c.MarketKeys = platforms.DevKeys
	}
}

// Server is the set of simulated partners.
type Server struct {
	db   *sql.DB
	inv  Invoker
	clk  clock.Clock
	cfg  Config
	log  *slog.Logger
	rand func() float64

	faults  fresh.Copy[map[string]Fault] // the fault switches, read at most every faultsFresh
	risk    fresh.Copy[RiskRules]        // the risk rules in force, likewise
	seqs    seqBlock                     // the partner's sequence numbers
	records *group.Writer[*recordReq]    // outside-API requests recorded together (record.go)
}

// New returns the simulators over db (migrated with schema/migrations/partners).
func New(db *sql.DB, inv Invoker, clk clock.Clock, cfg Config, log *slog.Logger) *Server {
	cfg.defaults()
	if log == nil {
		log = slog.Default()
	}
	s := &Server{db: db, inv: inv, clk: clk, cfg: cfg, log: log, rand: rand.Float64,
		faults: fresh.Copy[map[string]Fault]{TTL: faultsFresh}, risk: fresh.Copy[RiskRules]{TTL: faultsFresh}}
	s.records = group.NewWriter(group.Options{Sizes: recordGroupSize}, s.recordAll)
	return s
}

func (s *Server) now() time.Time { return s.clk.Now().UTC().Truncate(time.Microsecond) }

// Mount registers every partner's routes on r, the sidecar-facing router
// (behind the sidecar's token): the channel APIs and FMS that PAY invokes,
// the outside APIs for callers that name the app id, the cashier pages for
// tests that drive them by invocation, and the admin routes tests use.
func (s *Server) Mount(r chi.Router) {
	r.Post("/wechat/v3/pay/transactions", s.wechat("wechat.create", s.wechatCreate))
	r.Post("/wechat/v3/pay/transactions/query", s.wechat("wechat.query", s.wechatQuery))
	r.Post("/wechat/v3/refund/domestic/refunds", s.wechat("wechat.refund", s.wechatRefund))
	r.Post("/wechat/v3/refund/domestic/refunds/query", s.wechat("wechat.refund_query", s.wechatRefundQuery))
	r.Post("/alipay/gateway.do", s.alipayGateway)
	r.Get("/cashier/{channel}/{no}", s.cashierShow)
	r.Post("/cashier/{channel}/{no}/pay", s.cashierPay)
	r.Post("/fms/v1/receipts", s.fmsReceipt)
	r.Get("/fms/v1/receipts", s.fmsReceipts)
	r.Post("/fms/v1/vouchers", s.fmsVoucher)
	r.Get("/fms/v1/vouchers", s.fmsVouchers)
	r.Post("/fms/v1/refund-audits", s.fmsAuditCreate)
	r.Get("/fms/v1/refund-audits/{id}", s.fmsAuditGet)
	r.Post("/fms/v1/refund-audits/{id}/approve", s.fmsAuditDecide("APPROVED"))
	r.Post("/fms/v1/refund-audits/{id}/reject", s.fmsAuditDecide("REJECTED"))
	r.Post("/admin/faults", s.faultSet)
	r.Get("/admin/faults", s.faultList)
	r.Delete("/admin/faults", s.faultClear)
	r.Get("/admin/trades/{channel}/{no}", s.adminTrade)
	r.Get("/admin/notifications", s.adminNotifications)
	r.Post("/admin/tms/parcels/{id}/outcome", s.adminParcelOutcome)
	r.Get("/admin/erp/movements", s.adminERPMovements)
	r.Post("/admin/erp/purchase-orders", s.adminPurchaseOrder)
	s.mountOutside(r)
	s.mountMarketAdmin(r)
}

// Run is the background worker: it closes expired trades, completes due
// refunds, decides due audits and delivers callbacks, until ctx is done.
func (s *Server) Run(ctx context.Context) error {
	t := time.NewTicker(s.cfg.Tick)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if err := s.Tick(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("partners tick", "err", err)
		}
	}
}

// Tick runs one pass of the background work (tests call it directly).
func (s *Server) Tick(ctx context.Context) error {
	if err := s.completeRefunds(ctx); err != nil {
		return err
	}
	if err := s.decideAudits(ctx); err != nil {
		return err
	}
	// READ COMMITTED: under REPEATABLE READ the range scan's gap locks on
	// (status, time_expire) met the cashier's NOTPAY → SUCCESS update of
	// the same index and deadlocked it under load (a checkout run saw the
	// cashier's pay fail with 1213).
	if err := sqltx.RunWith(ctx, s.db, &sql.TxOptions{Isolation: sql.LevelReadCommitted}, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE channel_trades SET status='CLOSED' WHERE status='NOTPAY' AND time_expire < ?`, s.now())
		return err
	}); err != nil {
		return err
	}
	if err := s.advanceParcels(ctx); err != nil {
		return err
	}
	return s.deliver(ctx)
}
