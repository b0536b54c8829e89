package domain

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/platform/money"
)

// Trade is a cash payment attempt (交易流水) with its channel record (渠道流水).
type Trade struct {
	id             string
	key            string
	requestHash    string
	orderID        string
	customerID     string
	channel        string
	amount         money.Fen
	paid           money.Fen
	refunded       money.Fen
	status         TradeStatus
	timeExpire     time.Time
	createdAt      time.Time
	paidAt         time.Time
	pollCount      int
	channelTradeNo string
	cashierURL     string
}

// NewTrade opens a PENDING trade for the cash due on an order, to be paid
// before timeExpire: it needs its key, order and customer, a positive
// amount and a deadline after now (else NotPayableError).
func NewTrade(id, key, requestHash, orderID, customerID, channel string, amount money.Fen, timeExpire, now time.Time) (Trade, error) {
	switch {
	case key == "" || orderID == "" || customerID == "":
		return Trade{}, fmt.Errorf("%w: idempotency_key, order_id and customer_id are required", ErrValidation)
	case amount <= 0:
		return Trade{}, &NotPayableError{Reason: "NOTHING_DUE"}
	case !timeExpire.After(now):
		return Trade{}, &NotPayableError{Reason: "DEADLINE_PASSED"}
	}
	return Trade{id: id, key: key, requestHash: requestHash, orderID: orderID, customerID: customerID, channel: channel,
		amount: amount, status: TradePending, timeExpire: timeExpire, createdAt: now}, nil
}

// TradeSnapshot is a trade's state as the store persists it.
type TradeSnapshot struct {
	ID, IdempotencyKey, RequestHash, OrderID, CustomerID, Channel string
	Amount, Paid, Refunded                                        money.Fen
	Status                                                        TradeStatus
	TimeExpire, CreatedAt, PaidAt                                 time.Time
	PollCount                                                     int
	ChannelTradeNo, CashierURL                                    string
}

// RestoreTrade rebuilds a trade the store read.
func RestoreTrade(s TradeSnapshot) Trade {
	return Trade{id: s.ID, key: s.IdempotencyKey, requestHash: s.RequestHash, orderID: s.OrderID, customerID: s.CustomerID,
		channel: s.Channel, amount: s.Amount, paid: s.Paid, refunded: s.Refunded, status: s.Status, timeExpire: s.TimeExpire,
		createdAt: s.CreatedAt, paidAt: s.PaidAt, pollCount: s.PollCount, channelTradeNo: s.ChannelTradeNo, cashierURL: s.CashierURL}
}

// ID is the trade's id (the channel's out_trade_no).
func (t Trade) ID() string { return t.id }

// IdempotencyKey is the customer's key it was opened under.
func (t Trade) IdempotencyKey() string { return t.key }

// RequestHash fingerprints the request it was opened from.
func (t Trade) RequestHash() string { return t.requestHash }

// OrderID is the order it pays.
func (t Trade) OrderID() string { return t.orderID }

// CustomerID is who pays.
func (t Trade) CustomerID() string { return t.customerID }

// Channel is the payment channel.
func (t Trade) Channel() string { return t.channel }

// AmountFen is what the trade asks for.
func (t Trade) AmountFen() money.Fen { return t.amount }

// PaidFen is what the channel took.
func (t Trade) PaidFen() money.Fen { return t.paid }

// RefundedFen is what has been (or is being) given back.
func (t Trade) RefundedFen() money.Fen { return t.refunded }

// Status is where the trade stands.
func (t Trade) Status() TradeStatus { return t.status }

// TimeExpire is the deadline the channel enforces.
func (t Trade) TimeExpire() time.Time { return t.timeExpire }

// CreatedAt is when the trade was opened.
func (t Trade) CreatedAt() time.Time { return t.createdAt }

// PaidAt is when the channel took the money (zero before).
func (t Trade) PaidAt() time.Time { return t.paidAt }

// PollCount is how often PAY asked the channel.
func (t Trade) PollCount() int { return t.pollCount }

// ChannelTradeNo is the channel's own number for the trade.
func (t Trade) ChannelTradeNo() string { return t.channelTradeNo }

// CashierURL is where the customer pays.
func (t Trade) CashierURL() string { return t.cashierURL }

// SameRequest answers a repeated key: ErrKeyReused unless the request is
// the same.
func (t Trade) SameRequest(requestHash string) error {
	if t.requestHash != requestHash {
		return ErrKeyReused
	}
	return nil
}

// NeedsOpening reports whether a repeated start must still open the trade
// at the channel (the first call did not get that far).
func (t Trade) NeedsOpening() bool { return t.cashierURL == "" && t.status == TradePending }

// Opened records the channel's answer to create.
func (t *Trade) Opened(channelTradeNo, cashierURL string) {
	t.channelTradeNo, t.cashierURL = channelTradeNo, cashierURL
}

// Expired reports whether the trade's deadline has passed at now.
func (t Trade) Expired(now time.Time) bool { return now.After(t.timeExpire) }

// FullRefundKey is the cause key of a trade's automatic full refund: a
// cancel and a rejected payment both land on it, so the second finds the
// first.
func FullRefundKey(tradeID string) string { return "auto:" + tradeID }

// FullRefund returns the automatic refund of whatever the trade still
// holds (reason ReasonCancel or ReasonRejected, no audit), or
// ErrNothingToRefund.
func (t Trade) FullRefund(refundID, reason string) (Refund, error) {
	left := t.paid - t.refunded
	if t.status != TradeSucceeded || left <= 0 {
		return Refund{}, fmt.Errorf("trade %s: %w", t.id, ErrNothingToRefund)
	}
	return Refund{id: refundID, tradeID: t.id, orderID: t.orderID, customerID: t.customerID, causeKey: FullRefundKey(t.id),
		requestHash: "auto", amount: left, reason: reason, status: RefundSubmitting}, nil
}

// AutoRefundAttempts bounds how often PAY itself sends a trade's full
// refund to the channel: the first attempt and the retries that follow a
// channel's FAILED. A channel that fails a refund this often needs a
// person (a closed account, a frozen merchant balance); customer service
// then retries by hand (RetryKey) once the cause is fixed.
const AutoRefundAttempts = 4

// FullRefundAttemptKey is the cause key of attempt n of a trade's
// automatic full refund: attempt 1 is FullRefundKey, each retry its own
// key, so a retry is made once however often the failure is handled.
func FullRefundAttemptKey(tradeID string, attempt int) string {
	if attempt <= 1 {
		return FullRefundKey(tradeID)
	}
	return fmt.Sprintf("%s#%d", FullRefundKey(tradeID), attempt)
}

// RefundAttempt is which attempt of its trade's automatic full refund r
// is (1 for the first), or 0 when r is not automatic.
func (r Refund) RefundAttempt() int {
	base := FullRefundKey(r.tradeID)
	switch {
	case r.causeKey == base:
		return 1
	case strings.HasPrefix(r.causeKey, base+"#"):
		n, err := strconv.Atoi(strings.TrimPrefix(r.causeKey, base+"#"))
		if err != nil || n < 2 {
			return 0
		}
		return n
	}
	return 0
}

// RetryBackoff is how long retry attempt n (2, 3, …) waits after the
// failure before it goes to the channel: 30 s, 2 min, 8 min. A channel
// that failed a refund rarely takes the same one a moment later; the
// waits stay short enough for the customer's money to come back the
// same day.
func RetryBackoff(attempt int) time.Duration {
	d := 30 * time.Second
	for i := 2; i < attempt; i++ {
		d *= 4
	}
	return d
}

// RetryFailed returns the automatic refund that follows failed, a full
// refund the channel FAILED (t is its trade after the failed amount came
// back to it): the next attempt, of whatever the trade still holds,
// without an audit as the first. ErrNothingToRefund when failed is not an
// automatic refund, its attempts are used up, or nothing is left.
func (t Trade) RetryFailed(failed Refund, refundID string) (Refund, error) {
	n := failed.RefundAttempt()
	if n == 0 || n >= AutoRefundAttempts {
		return Refund{}, fmt.Errorf("refund %s: attempt %d of %d: %w", failed.id, n, AutoRefundAttempts, ErrNothingToRefund)
	}
	r, err := t.FullRefund(refundID, failed.reason)
	if err != nil {
		return Refund{}, err
	}
	r.causeKey = FullRefundAttemptKey(t.id, n+1)
	return r, nil
}

// RetryKey is the cause key of customer service's retry of a trade's
// failed full refund: the agent's key, scoped like every key in PAY.
func RetryKey(key string) string { return "key:" + key }

// RetryByHand returns customer service's retry of failed, a full refund
// the channel FAILED (once PAY's own attempts were used up, or an earlier
// retry by hand): whatever the
// trade still holds, straight to the channel (it still gives back a
// cancelled order's money, which needs no audit). ErrNothingToRetry when
// failed is not a failed automatic refund or the trade holds nothing
// more; the trade's own atomic check refuses a second retry racing it.
func (t Trade) RetryByHand(failed Refund, refundID, key string) (Refund, error) {
	if failed.status != RefundFailed || NeedsAudit(failed.reason) || failed.tradeID != t.id {
		return Refund{}, fmt.Errorf("%w: refund %s is a %s refund %s, not a failed automatic refund of trade %s", ErrNothingToRetry,
			failed.id, failed.reason, failed.status, t.id)
	}
	r, err := t.FullRefund(refundID, failed.reason)
	if errors.Is(err, ErrNothingToRefund) {
		return Refund{}, fmt.Errorf("%w: trade %s holds nothing more to refund", ErrNothingToRetry, t.id)
	}
	if err != nil {
		return Refund{}, err
	}
	r.causeKey, r.requestHash = RetryKey(key), "retry:"+failed.id
	return r, nil
}
