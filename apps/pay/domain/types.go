package domain

import "time"

// Account is a customer's money-like non-cash balances, in fen (points 1 = 1 fen).
type Account struct {
	CustomerID   string
	BalanceFen   int64
	GiftCardFen  int64
	Points       int64
	GoodsCardFen int64
}

// Coupon is a coupon in a customer's account.
type Coupon struct {
	ID        string
	Title     string
	ValueFen  int64
	Status    CouponStatus
	ExpiresAt time.Time
}

// Deduction is a non-cash deduction (扣减流水 header) and its items.
type Deduction struct {
	ID             string
	IdempotencyKey string
	RequestHash    string
	CustomerID     string
	Items          []Item
	TotalFen       int64
	Status         DeductionStatus
	OrderID        string
	CreatedAt      time.Time
}

// Trade is a cash payment attempt (交易流水) with its channel record (渠道流水).
type Trade struct {
	ID             string
	IdempotencyKey string
	RequestHash    string
	OrderID        string
	CustomerID     string
	Channel        string
	AmountFen      int64
	PaidFen        int64
	RefundedFen    int64
	Status         TradeStatus
	TimeExpire     time.Time
	CreatedAt      time.Time
	PaidAt         time.Time
	PollCount      int
	ChannelTradeNo string
	CashierURL     string
}

// Refund is money going back through a trade's channel.
type Refund struct {
	ID          string
	TradeID     string
	OrderID     string
	CustomerID  string // the trade's customer, whose key CauseKey is (not read back)
	CauseKey    string
	RequestHash string
	AmountFen   int64
	Reason      string
	Status      RefundStatus
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Finance push kinds (what FMS receives).
const (
	PushNonCashReceived = "NONCASH_RECEIVED"
	PushNonCashReversed = "NONCASH_REVERSED"
	PushCashReceived    = "CASH_RECEIVED"
	PushCashRefunded    = "CASH_REFUNDED"
	PushRefundAudit     = "REFUND_AUDIT"
)

// Push is one message to finance.
type Push struct {
	ID       string
	Kind     string
	RefID    string
	Payload  []byte
	Attempts int
}

// PushBody is what finance receives for every push kind.
type PushBody struct {
	PushID     string    `json:"push_id"`
	Kind       string    `json:"kind"`
	RefID      string    `json:"ref_id"`
	OrderID    string    `json:"order_id,omitempty"`
	CustomerID string    `json:"customer_id,omitempty"`
	Channel    string    `json:"channel,omitempty"`
	TradeID    string    `json:"trade_id,omitempty"`
	AmountFen  int64     `json:"amount_fen"`
	Reason     string    `json:"reason,omitempty"`
	At         time.Time `json:"at"`
}
