package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/pay/payclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// PushConcurrency is each push type's worker concurrency: the I/O-bound
// calls to PAY and the outside systems run many at once; finance's
// vouchers and the answers are light.
var PushConcurrency = map[domain.PushType]int{
	domain.PushRefund: 16, domain.PushNonCashRefund: 16, domain.PushPickup: 16, domain.PushWMSReturn: 16,
	domain.PushRefundVoucher: 8, domain.PushStockRestore: 8, domain.PushAnswer: 8,
	domain.PushNewOrder:   8,
	domain.PushSettlement: 8, domain.PushPresaleStock: 4, domain.PushDropShipReturn: 4, domain.PushUnbindPointsCoupons: 4,
}

// Pushers builds the push workers with every type's receiver; the
// service wakes them after each commit that wrote pushes. concurrency
// overrides PushConcurrency per type.
func (s *Service) Pushers(store PushStore, opt PushOptions, concurrency map[domain.PushType]int) *Pushers {
	ps := NewPushers(store, opt)
	receivers := map[domain.PushType]Deliverer{
		domain.PushAnswer:              s.deliverAnswer,
		domain.PushPickup:              s.deliverPickup,
		domain.PushWMSReturn:           s.deliverWMSReturn,
		domain.PushRefund:              s.deliverRefund,
		domain.PushNonCashRefund:       s.deliverNonCashRefund,
		domain.PushRefundVoucher:       s.deliverVoucher,
		domain.PushStockRestore:        s.deliverStockRestore,
		domain.PushNewOrder:            s.deliverNewOrder,
		domain.PushSettlement:          s.deliverSettlement,
		domain.PushPresaleStock:        s.deliverPresaleStock,
		domain.PushDropShipReturn:      s.deliverDropShipReturn,
		domain.PushUnbindPointsCoupons: s.deliverUnbindPointsCoupons,
	}
	for t, d := range receivers {
		n := PushConcurrency[t]
		if c, ok := concurrency[t]; ok {
			n = c
		}
		ps.Handle(t, n, s.afterDelivery(d))
	}
	s.pushers = ps
	return ps
}

func (s *Service) wakePushers() {
	if s.pushers != nil {
		s.pushers.Wake()
	}
}

// stepsWaitOn are the push types whose DONE some step of a request waits
// on (a return's pickup, return notice and refunds, a forward document's
// new order). The others (the answer, settlement, unbinding, vouchers,
// stock restores) move no request on: a cancel's steps read no push.
var stepsWaitOn = map[domain.PushType]bool{
	domain.PushPickup: true, domain.PushWMSReturn: true, domain.PushRefund: true, domain.PushNonCashRefund: true, domain.PushNewOrder: true,
}

// afterDelivery moves the push's request on once the push is through, when
// a step waits on it (best effort: the sweep comes back for it). Moving it
// on after every push cost each cancel three more passes over its request,
// each asking OMS and PAY again for a refund not yet made.
func (s *Service) afterDelivery(d Deliverer) Deliverer {
	return func(ctx context.Context, p domain.Push) (Delivery, error) {
		out, err := d(ctx, p)
		if err == nil && stepsWaitOn[p.Type] {
			go func() {
				time.Sleep(50 * time.Millisecond) // after the push is marked DONE
				pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 20*time.Second)
				defer cancel()
				if err := s.Process(pctx, p.RequestID); err != nil && !errors.Is(err, ErrNotYet) {
					s.d.Logger.Warn("process request after a push", "request", p.RequestID, "err", err)
				}
			}()
		}
		return out, err
	}
}

// refused turns a receiver's answer that retrying will not change (bad
// input, a business refusal) into ErrPushRefused; anything else is
// retried.
func refused(err error, codes ...string) error {
	var p *httpapi.Problem
	if errors.As(err, &p) && (p.Status == http.StatusBadRequest || p.Status == http.StatusUnprocessableEntity) {
		return fmt.Errorf("%w: %v", ErrPushRefused, err)
	}
	for _, c := range codes {
		if httpapi.HasCode(err, c) {
			return fmt.Errorf("%w: %v", ErrPushRefused, err)
		}
	}
	return err
}

func decode[T any](p domain.Push) (T, error) {
	var v T
	if err := json.Unmarshal(p.Payload, &v); err != nil {
		return v, fmt.Errorf("%w: payload of %s: %v", ErrPushRefused, p.ID, err)
	}
	return v, nil
}

func (s *Service) deliverAnswer(ctx context.Context, p domain.Push) (Delivery, error) {
	a, err := decode[answerPush](p)
	if err != nil {
		return Delivery{}, err
	}
	rc, err := s.d.Partners.SendPush(ctx, partnersclient.Push{MessageID: p.ID, CustomerID: a.CustomerID, Channel: partnersclient.PushMiniProgram,
		Template: "AFTERSALES_ACCEPTED", Params: map[string]string{"order_id": p.OrderID, "request_id": p.RequestID, "kind": a.Kind,
			"refund_fen": a.RefundFen.String()}})
	if err != nil {
		return Delivery{}, refused(err, partnersclient.CodeRejected)
	}
	return Delivery{Result: rc.ID}, nil
}

func addressLine(a pickupPush) string {
	return strings.Join([]string{a.Address.Province, a.Address.City, a.Address.District, a.Address.Detail}, " ")
}

func (s *Service) deliverPickup(ctx context.Context, p domain.Push) (Delivery, error) {
	pk, err := decode[pickupPush](p)
	if err != nil {
		return Delivery{}, err
	}
	req := partnersclient.PickupRequest{PickupID: p.ID, OrderID: p.OrderID, Name: pk.Address.Name, Phone: pk.Address.Phone, Address: addressLine(pk)}
	for _, l := range pk.Lines {
		req.Lines = append(req.Lines, partnersclient.GoodsLine{SKU: l.SKU, Qty: l.Qty})
	}
	rc, err := s.d.Partners.RequestPickup(ctx, req)
	if err != nil {
		return Delivery{}, refused(err, partnersclient.CodeRejected)
	}
	next, err := domain.MakePush(pushID(p.RequestID, domain.PushWMSReturn), domain.PushWMSReturn, p.OrderID, p.RequestID,
		wmsReturnPush{Kind: string(domain.KindReturn), WaybillNo: rc.ID, Lines: pk.Lines, Refund: pk.Refund})
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{Result: rc.ID, Follow: []domain.NewPush{next}}, nil
}

func (s *Service) deliverWMSReturn(ctx context.Context, p domain.Push) (Delivery, error) {
	w, err := decode[wmsReturnPush](p)
	if err != nil {
		return Delivery{}, err
	}
	n := wmsclient.ReturnNotice{NoticeID: p.ID, OrderID: p.OrderID, RequestID: p.RequestID, Kind: w.Kind, WaybillNo: w.WaybillNo}
	for _, l := range w.Lines {
		n.Lines = append(n.Lines, wmsclient.ReturnLine{SKU: l.SKU, Qty: l.Qty})
	}
	rc, err := s.d.Warehouse.NoticeReturn(ctx, n)
	if err != nil {
		return Delivery{}, refused(err)
	}
	follow := refundPushes(p.RequestID, p.OrderID, w.Kind, w.Refund)
	// Drop-ship units go back to their supplier (DROPSHIP_RETURN), not to
	// our sellable stock.
	if own := ownStock(w.Lines); len(own) > 0 {
		restore, err := domain.MakePush(pushID(p.RequestID, domain.PushStockRestore), domain.PushStockRestore, p.OrderID, p.RequestID, own)
		if err != nil {
			return Delivery{}, err
		}
		follow = append(follow, restore)
	}
	return Delivery{Result: rc.NoticeID, Follow: follow}, nil
}

// deliverStockRestore gives the units that came back to sellable stock
// (inventory deduplicates by the push id, hot SKUs' Redis counters
// included). An unknown SKU is refused for good: the push ends DEAD,
// customer service sees it on the request.
func (s *Service) deliverStockRestore(ctx context.Context, p domain.Push) (Delivery, error) {
	lines, err := decode[[]goodsLine](p)
	if err != nil {
		return Delivery{}, err
	}
	req := inventoryclient.RestoreRequest{RestoreID: p.ID, OrderID: p.OrderID}
	for _, l := range lines {
		req.Lines = append(req.Lines, inventoryclient.RestoreLine{SKU: l.SKU, Qty: l.Qty})
	}
	rc, err := s.d.Stock.RestoreStock(ctx, req)
	if err != nil {
		return Delivery{}, refused(err, inventoryclient.CodeHotRestore, inventoryclient.CodeUnknownSKU)
	}
	return Delivery{Result: rc.RestoreID}, nil
}

// deliverRefund asks PAY for the cash refund with the push id as its
// idempotency key: however often it is delivered, PAY holds one refund
// (same key and input: the first refund again), which finance audits
// before it goes to the channel. The voucher for finance follows with
// PAY's refund id.
func (s *Service) deliverRefund(ctx context.Context, p domain.Push) (Delivery, error) {
	rp, err := decode[refundPush](p)
	if err != nil {
		return Delivery{}, err
	}
	f, err := s.d.Payments.RequestRefund(ctx, payclient.RefundRequest{IdempotencyKey: p.ID, TradeID: rp.TradeID, AmountFen: rp.AmountFen,
		Reason: rp.Reason})
	if err != nil {
		return Delivery{}, refused(err, payclient.CodeRefundTooLarge, payclient.CodeIdempotencyReuse, payclient.CodeNotFound)
	}
	var kind string
	if rp.Reason == "REJECTED_AT_DOOR" {
		kind = string(domain.KindRejection)
	} else {
		kind = string(domain.KindReturn)
	}
	nonCash, err := s.nonCashShare(ctx, p.RequestID)
	if err != nil {
		return Delivery{}, err
	}
	v, err := domain.MakePush(pushID(p.RequestID, domain.PushRefundVoucher), domain.PushRefundVoucher, p.OrderID, p.RequestID,
		voucherPush{Kind: kind, CashFen: rp.AmountFen, NonCashFen: nonCash, RefundID: f.ID})
	if err != nil {
		return Delivery{}, err
	}
	return Delivery{Result: f.ID, Follow: []domain.NewPush{v}}, nil
}

func (s *Service) nonCashShare(ctx context.Context, requestID string) (money.Fen, error) {
	r, err := s.d.Repo.Get(ctx, requestID)
	if err != nil {
		return 0, err
	}
	return r.RefundNonCash(), nil
}

func (s *Service) deliverNonCashRefund(ctx context.Context, p domain.Push) (Delivery, error) {
	plan, err := decode[refundPlan](p)
	if err != nil {
		return Delivery{}, err
	}
	r, err := s.d.Payments.RefundNonCash(ctx, payclient.NonCashRefundRequest{IdempotencyKey: p.ID, OrderID: p.OrderID, AmountFen: plan.NonCashFen,
		Reason: "SALES_RETURN", DeductionIDs: plan.DeductionIDs})
	if err != nil {
		return Delivery{}, refused(err, payclient.CodeRefundTooLarge, payclient.CodeIdempotencyReuse, payclient.CodeNotFound)
	}
	return Delivery{Result: r.ID}, nil
}

func (s *Service) deliverVoucher(ctx context.Context, p domain.Push) (Delivery, error) {
	v, err := decode[voucherPush](p)
	if err != nil {
		return Delivery{}, err
	}
	rc, err := s.d.Partners.PushRefundVoucher(ctx, partnersclient.RefundVoucher{VoucherID: p.ID, OrderID: p.OrderID, RequestID: p.RequestID,
		Kind: v.Kind, CashFen: v.CashFen, NonCashFen: v.NonCashFen, RefundID: v.RefundID})
	if err != nil {
		return Delivery{}, refused(err, partnersclient.CodeRejected)
	}
	return Delivery{Result: rc.ID}, nil
}
