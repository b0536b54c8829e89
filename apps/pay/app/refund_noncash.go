package app

import (
	"context"
	"slices"
	"strings"

	"github.com/harvest/harvest/apps/pay/domain"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
)

// NonCashRefundInput asks for part of an order's non-cash deductions back
// (after-sales: a return's non-cash share).
type NonCashRefundInput struct {
	IdempotencyKey string
	OrderID        string
	AmountFen      money.Fen
	Reason         string
	// DeductionIDs are the deductions OMS says the order uses, beside
	// those PAY bound to it (a pull-back's order uses its original's,
	// bound to the original); at most 10, of one customer. Left out of
	// the request's fingerprint when empty, as before there were any.
	DeductionIDs []string `json:",omitempty"`
}

// RefundNonCash gives part of an order's non-cash deductions back to the
// accounts they came from, spread over the deductions' items in
// proportion (domain.SpreadNonCashRefund), never more than they took
// counting earlier refunds; idempotent by key. Unlike a cash refund it
// needs no finance audit: nothing leaves the company, as with the reversal
// of a cancel.
func (s *Service) RefundNonCash(ctx context.Context, in NonCashRefundInput) (domain.NonCashRefund, error) {
	in.Reason = strings.TrimSpace(in.Reason)
	if in.IdempotencyKey == "" || len(in.IdempotencyKey) > 128 || in.OrderID == "" || in.Reason == "" || len(in.Reason) > 64 || in.AmountFen <= 0 {
		return domain.NonCashRefund{}, errValidation("idempotency_key (1-128), order_id, reason (1-64) and a positive amount_fen are required")
	}
	if len(in.DeductionIDs) > 10 || slices.Contains(in.DeductionIDs, "") {
		return domain.NonCashRefund{}, errValidation("deduction_ids: at most 10 ids, none empty")
	}
	r := domain.NonCashRefund{ID: ids.New(), Key: in.IdempotencyKey, RequestHash: domain.RequestHash(in), OrderID: in.OrderID, Reason: in.Reason,
		Amount: in.AmountFen, DeductionIDs: in.DeductionIDs, CreatedAt: s.now()}
	return s.repo.RefundNonCash(ctx, r, func(customerID string, items []domain.Item, left money.Fen) (domain.Account, money.Fen, error) {
		return domain.SpreadNonCashRefund(customerID, items, in.AmountFen, left)
	})
}
