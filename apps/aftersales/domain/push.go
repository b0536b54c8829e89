package domain

import (
	"encoding/json"
	"fmt"
	"time"
)

// PushType names one kind of push to another system (DOMAIN 5 step 5);
// each type has its own worker with its own concurrency.
type PushType string

// Push types. Each says where it goes and what it does there.
const (
	// PushRefund asks PAY for the cash part of a return's refund on the
	// order's trade (PAY's audited refund: finance approves it first).
	PushRefund PushType = "REFUND"
	// PushNonCashRefund gives the non-cash part back to the accounts the
	// order's deductions took it from (PAY).
	PushNonCashRefund PushType = "NONCASH_REFUND"
	// PushPickup asks TMS for a pickup courier at the customer's door.
	PushPickup PushType = "TMS_PICKUP"
	// PushWMSReturn tells the warehouse goods come back (returns with
	// pickup, rejections).
	PushWMSReturn PushType = "WMS_RETURN"
	// PushRefundVoucher books the refund at finance.
	PushRefundVoucher PushType = "REFUND_VOUCHER"
	// PushStockRestore gives the returned units back to sellable stock.
	PushStockRestore PushType = "STOCK_RESTORE"
	// PushAnswer tells the requester their request was accepted.
	PushAnswer PushType = "ANSWER"
	// PushNewOrder asks OMS's accept-order API for a reissue's or an
	// exchange's new order (the push id is its idempotency key).
	PushNewOrder PushType = "NEW_ORDER"
	// PushSettlement sends finance the settlement data of what the
	// request undoes of the order's sale, per line.
	PushSettlement PushType = "SETTLEMENT"
	// PushPresaleStock gives a cancelled or refused order's presale units
	// back to purchasing's presale sellable count.
	PushPresaleStock PushType = "PRESALE_STOCK"
	// PushDropShipReturn is a drop-ship supplier's purchase return with a
	// virtual outbound, one per supplier of the returned lines.
	PushDropShipReturn PushType = "DROPSHIP_RETURN"
	// PushUnbindPointsCoupons unbinds, in marketing's wallet, the coupons
	// the customer bought with a cancelled order's points (the points
	// come back with the refund).
	PushUnbindPointsCoupons PushType = "UNBIND_POINTS_COUPONS"
)

// PushTypes lists every push type, one worker each.
var PushTypes = []PushType{PushRefund, PushNonCashRefund, PushPickup, PushWMSReturn, PushRefundVoucher, PushStockRestore, PushAnswer,
	PushNewOrder, PushSettlement, PushPresaleStock, PushDropShipReturn, PushUnbindPointsCoupons}

// PushStatus is where a push stands.
type PushStatus string

// Push statuses: PENDING until its receiver took it (DONE) or refused it
// for good (DEAD, with the receiver's reason; CS sees it).
const (
	PushPending PushStatus = "PENDING"
	PushDone    PushStatus = "DONE"
	PushDead    PushStatus = "DEAD"
)

// NewPush is a push a step calls for; it is written in the step's
// transaction.
type NewPush struct {
	ID        string // the receiver's idempotency id
	Type      PushType
	OrderID   string
	RequestID string
	Payload   json.RawMessage
}

// MakePush builds a push with payload marshalled.
func MakePush(id string, t PushType, orderID, requestID string, payload any) (NewPush, error) {
	b, err := json.Marshal(payload)
	if err != nil {
		return NewPush{}, fmt.Errorf("push %s payload: %w", t, err)
	}
	return NewPush{ID: id, Type: t, OrderID: orderID, RequestID: requestID, Payload: b}, nil
}

// Push is a stored push.
type Push struct {
	Seq       int64 // the table's id: commit order per order
	ID        string
	Type      PushType
	OrderID   string
	RequestID string
	Payload   json.RawMessage
	Status    PushStatus
	Attempts  int
	Result    string
	LastError string
	CreatedAt time.Time
}

// PushBackoff is how long a failed push waits before its next attempt:
// doubling from half a second, at most 30 s.
func PushBackoff(attempts int) time.Duration {
	d := 500 * time.Millisecond
	for i := 1; i < attempts && d < 30*time.Second; i++ {
		d *= 2
	}
	return min(d, 30*time.Second)
}
