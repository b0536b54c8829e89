package app

import (
	"context"
	"fmt"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/aftersales/events"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/ids"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
)

// Return accepts a customer's return of delivered lines (DOMAIN 4.2, 5):
// the order must be theirs (another's answers ErrNotFound) and
// delivered; every line on it and no more units than delivered, counting
// earlier returns (ErrLineNotOnOrder, ErrQtyAboveDelivered). The refund
// is spread over the returned lines with stage 5's allocation
// (domain.ComputeRefund) and checked against what was paid, counting
// earlier returns, under the order's lock, so concurrent returns of one
// order decide one after the other. The request is stored with its
// first pushes and the accepted event in one transaction.
func (s *Service) Return(ctx context.Context, in domain.ReturnInput) (*domain.Request, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	if err := s.refuseMalicious(ctx, in.OrderID); err != nil {
		return nil, err // customer service marked the order malicious (actions.go)
	}
	al, err := s.allocation(ctx, in.OrderID, in.CustomerID)
	if err != nil {
		return nil, err
	}
	door, err := s.doorRefusal(ctx, al)
	if err != nil {
		return nil, err
	}
	return s.createReturn(ctx, domain.KindReturn, in, al, func() error {
		return domain.CheckReturnable(in.CustomerID, al.CustomerID, al.Status, door)
	})
}

// doorRefusal says what a refusal at the door left of order al: whether
// only some units were refused, and whether their rejection is recorded
// (once recorded it stays, so asking before the order's lock is safe).
func (s *Service) doorRefusal(ctx context.Context, al omsclient.Allocation) (domain.DoorRefusal, error) {
	door := domain.DoorRefusal{Refused: al.Refused, Partial: keptUnits(al)}
	if !door.Refused || !door.Partial {
		return door, nil
	}
	rs, err := s.d.Repo.OfOrder(ctx, al.OrderID)
	if err != nil {
		return door, fmt.Errorf("read requests of %s: %w", al.OrderID, err)
	}
	for _, r := range rs {
		// A rejection document customer service's supervisor turned down
		// gave its units back: it takes nothing back.
		door.Rejected = door.Rejected || r.Kind() == domain.KindRejection && r.Status() != domain.StatusRejected
	}
	return door, nil
}

// keptUnits reports whether the customer kept some units of an order
// refused at the door: a courier may name every unit in its refused
// lines, which is a whole refusal, not a partial one.
func keptUnits(al omsclient.Allocation) bool {
	if len(al.RefusedLines) == 0 {
		return false
	}
	left := map[string]int64{}
	for _, l := range al.Lines {
		left[l.SKU] += l.Qty
	}
	for _, l := range al.RefusedLines {
		left[l.SKU] -= l.Qty
	}
	for _, n := range left {
		if n > 0 {
			return true
		}
	}
	return false
}

// allocation reads the order with stage 5's allocation; another
// customer's order answers ErrNotFound, as a missing one does.
func (s *Service) allocation(ctx context.Context, orderID, customerID string) (omsclient.Allocation, error) {
	al, err := s.d.Orders.GetAllocation(ctx, orderID)
	switch {
	case httpapi.HasCode(err, omsclient.CodeNotFound):
		return al, fmt.Errorf("%w: order %s", domain.ErrNotFound, orderID)
	case err != nil:
		return al, fmt.Errorf("read order %s: %w", orderID, err)
	case customerID != "" && al.CustomerID != customerID:
		return al, fmt.Errorf("%w: order %s", domain.ErrNotFound, orderID)
	}
	return al, nil
}

func orderLines(al omsclient.Allocation) []domain.OrderLine {
	out := make([]domain.OrderLine, 0, len(al.Lines))
	for _, l := range al.Lines {
		out = append(out, domain.OrderLine{SKU: l.SKU, Qty: l.Qty, Cash: l.CashFen, NonCash: l.NonCashFen, Freight: l.FreightFen})
	}
	return out
}

// createReturn stores a return or rejection of al; check refuses an
// order that cannot take it (run after a replay of the key is looked
// for, so a replay finds its request even when the order moved on).
func (s *Service) createReturn(ctx context.Context, kind domain.Kind, in domain.ReturnInput, al omsclient.Allocation, check func() error) (*domain.Request, error) {
	// What fails without the earlier returns fails with them: refused
	// before the filter or the database is touched.
	if err := check(); err != nil {
		return nil, err
	}
	if _, err := domain.ComputeRefund(orderLines(al), nil, in.Lines); err != nil {
		return nil, err
	}
	cat, err := s.catalog(ctx, al)
	if err != nil {
		return nil, err
	}
	// The order's bits are set before the request is stored, as for a
	// cancel: no gateway says "no" for it once it is answered.
	if err := s.d.Filter.Add(ctx, in.OrderID); err != nil {
		return nil, err
	}
	now := s.now()
	id := ids.New()
	caps := ReturnCaps{Cash: al.PaidFen, NonCash: al.NonCashFen}
	out, created, err := s.d.Repo.CreateReturn(ctx, now, in.OrderID, in.CustomerID, in.IdempotencyKey, caps,
		func(returned map[string]int64) (*domain.Request, error) {
			if err := check(); err != nil {
				return nil, err
			}
			lines, err := domain.ComputeRefund(orderLines(al), returned, in.Lines)
			if err != nil {
				return nil, err
			}
			r, err := domain.NewReturn(id, kind, in, lines, now)
			if err != nil {
				return nil, err
			}
			return r, s.firstPushes(r, al, cat)
		}, s.acceptedEvent)
	if err != nil {
		return nil, err
	}
	if !created {
		if err := out.SameRequest(in.Hash()); err != nil {
			return nil, err
		}
		return out, nil
	}
	s.d.Notify()
	s.wakePushers()
	return out, nil
}

// acceptedEvent is the transactional message a stored request starts with.
func (s *Service) acceptedEvent(r *domain.Request) outbox.Event {
	return outbox.Event{Topic: events.TopicRequestAccepted, AggregateID: r.ID(), Type: events.TypeRequestAccepted,
		Payload: events.RequestAccepted{RequestID: r.ID(), OrderID: r.OrderID(), CustomerID: r.CustomerID(), Kind: string(r.Kind()), At: r.CreatedAt()}}
}

// pushID is a request's push of type t: one per request and type, the
// same id however often the step that calls for it runs.
func pushID(requestID string, t domain.PushType) string { return requestID + ":" + string(t) }

// refundPlan is what the refund pushes need, carried along the pushes
// that come before them.
type refundPlan struct {
	TradeID      string    `json:"trade_id,omitempty"`
	CashFen      money.Fen `json:"cash_fen"`
	DeductionIDs []string  `json:"deduction_ids,omitempty"`
	NonCashFen   money.Fen `json:"non_cash_fen"`
	// Lines are the request's lines with their refunds: the settlement
	// data, the drop-ship purchase returns and the presale stock follow
	// from them.
	Lines []planLine `json:"lines,omitempty"`
}

// planLine is one line of a refund plan.
type planLine struct {
	SKU        string    `json:"sku"`
	Qty        int64     `json:"qty"`
	CashFen    money.Fen `json:"cash_fen"`
	NonCashFen money.Fen `json:"non_cash_fen"`
	FreightFen money.Fen `json:"freight_fen"`
	Supplier   string    `json:"supplier,omitempty"` // a drop-ship line's supplier
	Presale    bool      `json:"presale,omitempty"`
}

// goodsLine is a SKU and units in a push; Supplier names a drop-ship
// line's supplier (its units are the supplier's, not our stock's).
type goodsLine struct {
	SKU      string `json:"sku"`
	Qty      int64  `json:"qty"`
	Supplier string `json:"supplier,omitempty"`
}

// Push payloads.
type (
	answerPush struct {
		CustomerID string    `json:"customer_id"`
		Kind       string    `json:"kind"`
		RefundFen  money.Fen `json:"refund_fen"`
	}
	pickupPush struct {
		Address omsclient.Address `json:"address"`
		Lines   []goodsLine       `json:"lines"`
		Refund  refundPlan        `json:"refund"`
	}
	wmsReturnPush struct {
		Kind      string      `json:"kind"`
		WaybillNo string      `json:"waybill_no,omitempty"`
		Lines     []goodsLine `json:"lines"`
		Refund    refundPlan  `json:"refund"`
	}
	refundPush struct {
		TradeID   string    `json:"trade_id"`
		AmountFen money.Fen `json:"amount_fen"`
		Reason    string    `json:"reason"`
	}
	voucherPush struct {
		Kind       string    `json:"kind"`
		CashFen    money.Fen `json:"cash_fen"`
		NonCashFen money.Fen `json:"non_cash_fen"`
		RefundID   string    `json:"refund_id,omitempty"`
	}
)

// firstPushes are the pushes a return or rejection starts with: the
// answer to the customer, and: a refund-only return's refunds; a pickup's
// courier at TMS (its delivery calls for the warehouse's notice, which
// calls for the refunds); a rejection's notice to the warehouse (the
// goods come back with the courier).
func (s *Service) firstPushes(r *domain.Request, al omsclient.Allocation, cat catalog) error {
	plan := refundPlan{TradeID: al.TradeID, CashFen: r.RefundCash(), DeductionIDs: al.DeductionIDs, NonCashFen: r.RefundNonCash()}
	var lines []goodsLine
	for _, l := range r.Lines() {
		p := cat[l.SKU]
		lines = append(lines, goodsLine{SKU: l.SKU, Qty: l.Qty, Supplier: p.supplier()})
		plan.Lines = append(plan.Lines, planLine{SKU: l.SKU, Qty: l.Qty, CashFen: l.Cash, NonCashFen: l.NonCash, FreightFen: l.Freight,
			Supplier: p.supplier(), Presale: p.Presale})
	}
	add := func(t domain.PushType, payload any) error {
		p, err := domain.MakePush(pushID(r.ID(), t), t, r.OrderID(), r.ID(), payload)
		if err == nil {
			r.Push(p)
		}
		return err
	}
	if err := add(domain.PushAnswer, answerPush{CustomerID: r.CustomerID(), Kind: string(r.Kind()), RefundFen: r.RefundCash() + r.RefundNonCash()}); err != nil {
		return err
	}
	switch {
	case r.Kind() == domain.KindRejection:
		return add(domain.PushWMSReturn, wmsReturnPush{Kind: string(r.Kind()), Lines: lines, Refund: plan})
	case r.Mode() == domain.ModePickup:
		return add(domain.PushPickup, pickupPush{Address: al.Address, Lines: lines, Refund: plan})
	}
	for _, p := range refundPushes(r.ID(), r.OrderID(), string(r.Kind()), plan) {
		r.Push(p)
	}
	return nil
}

// refundPushes are a request's refund to PAY (cash, audited by finance)
// and, without cash, its voucher straight away (with cash, the refund's
// delivery calls for the voucher with PAY's refund id); with them the
// settlement data for finance, each drop-ship supplier's purchase return
// and, for a rejection, the presale units back to purchasing
// (settlementPushes).
func refundPushes(requestID, orderID, kind string, plan refundPlan) []domain.NewPush {
	out := settlementPushes(requestID, orderID, kind, plan.Lines)
	if plan.CashFen > 0 {
		p, _ := domain.MakePush(pushID(requestID, domain.PushRefund), domain.PushRefund, orderID, requestID,
			refundPush{TradeID: plan.TradeID, AmountFen: plan.CashFen, Reason: refundReason(kind)})
		out = append(out, p)
	}
	if plan.NonCashFen > 0 {
		p, _ := domain.MakePush(pushID(requestID, domain.PushNonCashRefund), domain.PushNonCashRefund, orderID, requestID, plan)
		out = append(out, p)
	}
	if plan.CashFen == 0 && plan.NonCashFen > 0 {
		p, _ := domain.MakePush(pushID(requestID, domain.PushRefundVoucher), domain.PushRefundVoucher, orderID, requestID,
			voucherPush{Kind: kind, NonCashFen: plan.NonCashFen})
		out = append(out, p)
	}
	return out
}

// refundReason is the reason PAY's refund carries: never a cancel's, so
// finance audits it.
func refundReason(kind string) string {
	if kind == string(domain.KindRejection) {
		return "REJECTED_AT_DOOR"
	}
	return "SALES_RETURN"
}
