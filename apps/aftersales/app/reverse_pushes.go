package app

import (
	"context"
	"fmt"
	"slices"
	"sort"

	"github.com/harvest/harvest/apps/aftersales/domain"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/apps/partners/partnersclient"
)

// The push types that follow from what a request's lines are: finance's
// settlement data (every request that undoes part of a sale), the
// presale units back to purchasing (a cancel or rejection of presale
// lines: those units were never the customer's), and a drop-ship
// supplier's purchase return with a virtual outbound (a return or
// rejection of a supplier's lines: the goods were never in a warehouse
// of ours, so they are not restored to our stock either); and for a
// cancel, the coupons bought with the order's points unbound.

// product is a line's catalog entry as the pushes need it.
type product struct {
	DropShip  bool
	Supplier  string
	Presale   bool
	TaxRateBP int64 // output VAT, for an invoice issued again
}

func (p product) supplier() string {
	if p.DropShip {
		return p.Supplier
	}
	return ""
}

// catalog is the order's SKUs' entries.
type catalog map[string]product

// catalog reads the catalog entries of an order's lines.
func (s *Service) catalog(ctx context.Context, al omsclient.Allocation) (catalog, error) {
	var skus []string
	for _, l := range al.Lines {
		if !slices.Contains(skus, l.SKU) {
			skus = append(skus, l.SKU)
		}
	}
	out := catalog{}
	if len(skus) == 0 {
		return out, nil
	}
	ps, err := s.d.Stock.CatalogEntries(ctx, skus)
	if err != nil {
		return nil, fmt.Errorf("read the catalog entries of order %s: %w", al.OrderID, err)
	}
	for _, p := range ps {
		out[p.SKU] = product{DropShip: p.DropShip, Supplier: p.Supplier, Presale: p.Presale, TaxRateBP: p.TaxRateBP}
	}
	return out, nil
}

type (
	settlementPush struct {
		Kind  string     `json:"kind"`
		Lines []planLine `json:"lines"`
	}
	presalePush struct {
		Kind  string      `json:"kind"`
		Lines []goodsLine `json:"lines"`
	}
	dropShipPush struct {
		Kind     string      `json:"kind"`
		Supplier string      `json:"supplier"`
		Lines    []goodsLine `json:"lines"`
	}
)

// settlementPushes are the pushes a request's lines call for once its
// refund is decided: the settlement data; for a return or rejection, one
// purchase return per drop-ship supplier (ids by supplier, so each is
// its own push, the same however often this runs); for a cancel or a
// rejection, the presale units. Lines from a plan written before plans
// carried lines call for none.
func settlementPushes(requestID, orderID, kind string, lines []planLine) []domain.NewPush {
	if len(lines) == 0 {
		return nil
	}
	var out []domain.NewPush
	add := func(id string, t domain.PushType, payload any) {
		p, err := domain.MakePush(id, t, orderID, requestID, payload)
		if err == nil { // the payloads are plain structs: never an error
			out = append(out, p)
		}
	}
	add(pushID(requestID, domain.PushSettlement), domain.PushSettlement, settlementPush{Kind: kind, Lines: lines})
	if kind != string(domain.KindCancel) {
		bySupplier := map[string][]goodsLine{}
		for _, l := range lines {
			if l.Supplier != "" {
				bySupplier[l.Supplier] = append(bySupplier[l.Supplier], goodsLine{SKU: l.SKU, Qty: l.Qty, Supplier: l.Supplier})
			}
		}
		suppliers := make([]string, 0, len(bySupplier))
		for sup := range bySupplier {
			suppliers = append(suppliers, sup)
		}
		sort.Strings(suppliers)
		for _, sup := range suppliers {
			add(pushID(requestID, domain.PushDropShipReturn)+":"+sup, domain.PushDropShipReturn, dropShipPush{Kind: kind, Supplier: sup, Lines: bySupplier[sup]})
		}
	}
	if kind == string(domain.KindCancel) || kind == string(domain.KindRejection) {
		var presale []goodsLine
		for _, l := range lines {
			if l.Presale {
				presale = append(presale, goodsLine{SKU: l.SKU, Qty: l.Qty})
			}
		}
		if len(presale) > 0 {
			add(pushID(requestID, domain.PushPresaleStock), domain.PushPresaleStock, presalePush{Kind: kind, Lines: presale})
		}
	}
	return out
}

// cancelLines are a cancelled order's lines: everything it took comes
// back.
func cancelLines(al omsclient.Allocation, cat catalog) []planLine {
	out := make([]planLine, 0, len(al.Lines))
	for _, l := range al.Lines {
		p := cat[l.SKU]
		out = append(out, planLine{SKU: l.SKU, Qty: l.Qty, CashFen: l.CashFen, NonCashFen: l.NonCashFen, FreightFen: l.FreightFen,
			Supplier: p.supplier(), Presale: p.Presale})
	}
	return out
}

// cancelPushes are what a cancel writes with its ORDER_CANCELLED step.
func (s *Service) cancelPushes(ctx context.Context, r *domain.Request) ([]domain.NewPush, error) {
	al, err := s.allocation(ctx, r.OrderID(), "")
	if err != nil {
		return nil, err
	}
	cat, err := s.catalog(ctx, al)
	if err != nil {
		return nil, err
	}
	out := settlementPushes(r.ID(), r.OrderID(), string(r.Kind()), cancelLines(al, cat))
	unbind, err := domain.MakePush(pushID(r.ID(), domain.PushUnbindPointsCoupons), domain.PushUnbindPointsCoupons, r.OrderID(), r.ID(),
		unbindPush{CustomerID: r.CustomerID()})
	if err != nil {
		return nil, err
	}
	return append(out, unbind), nil
}

type unbindPush struct {
	CustomerID string `json:"customer_id"`
}

// deliverUnbindPointsCoupons unbinds the order's coupons bought with
// points (marketing deduplicates by the push id). Coupons it could not
// unbind (held by a deduction or used already) are named in the result,
// which customer service sees with the request's pushes.
func (s *Service) deliverUnbindPointsCoupons(ctx context.Context, p domain.Push) (Delivery, error) {
	up, err := decode[unbindPush](p)
	if err != nil {
		return Delivery{}, err
	}
	if s.d.Coupons == nil {
		return Delivery{}, fmt.Errorf("no coupon wallet configured")
	}
	u, err := s.d.Coupons.UnbindPointsCoupons(ctx, marketingclient.PointsCouponUnbindRequest{UnbindID: p.ID, OrderID: p.OrderID,
		CustomerID: up.CustomerID, Reason: "order cancelled (" + p.RequestID + ")"})
	if err != nil {
		return Delivery{}, refused(err)
	}
	result := fmt.Sprintf("%d unbound", len(u.Unbound))
	for _, k := range u.Kept {
		result += fmt.Sprintf("; %s kept (%s)", k.ID, k.Status)
	}
	return Delivery{Result: result}, nil
}

func (s *Service) deliverSettlement(ctx context.Context, p domain.Push) (Delivery, error) {
	sp, err := decode[settlementPush](p)
	if err != nil {
		return Delivery{}, err
	}
	in := partnersclient.Settlement{SettlementID: p.ID, OrderID: p.OrderID, RequestID: p.RequestID, Kind: sp.Kind}
	for _, l := range sp.Lines {
		in.Lines = append(in.Lines, partnersclient.SettlementLine{SKU: l.SKU, Qty: l.Qty, CashFen: l.CashFen, NonCashFen: l.NonCashFen, FreightFen: l.FreightFen})
		in.CashFen += l.CashFen
		in.NonCashFen += l.NonCashFen
		in.FreightFen += l.FreightFen
	}
	rc, err := s.d.Partners.PushSettlement(ctx, in)
	if err != nil {
		return Delivery{}, refused(err, partnersclient.CodeRejected)
	}
	return Delivery{Result: rc.ID}, nil
}

func (s *Service) deliverPresaleStock(ctx context.Context, p domain.Push) (Delivery, error) {
	pp, err := decode[presalePush](p)
	if err != nil {
		return Delivery{}, err
	}
	u := partnersclient.PresaleStockUpdate{UpdateID: p.ID, OrderID: p.OrderID, Kind: pp.Kind}
	for _, l := range pp.Lines {
		u.Lines = append(u.Lines, partnersclient.GoodsLine{SKU: l.SKU, Qty: l.Qty})
	}
	rc, err := s.d.Partners.UpdatePresaleStock(ctx, u)
	if err != nil {
		return Delivery{}, refused(err, partnersclient.CodeRejected)
	}
	return Delivery{Result: rc.ID}, nil
}

func (s *Service) deliverDropShipReturn(ctx context.Context, p domain.Push) (Delivery, error) {
	dp, err := decode[dropShipPush](p)
	if err != nil {
		return Delivery{}, err
	}
	in := partnersclient.PurchaseReturn{ReturnID: p.ID, Supplier: dp.Supplier, OrderID: p.OrderID, RequestID: p.RequestID, Kind: dp.Kind}
	for _, l := range dp.Lines {
		in.Lines = append(in.Lines, partnersclient.GoodsLine{SKU: l.SKU, Qty: l.Qty})
	}
	rc, err := s.d.Partners.ReturnToSupplier(ctx, in)
	if err != nil {
		return Delivery{}, refused(err, partnersclient.CodeRejected)
	}
	return Delivery{Result: rc.ID}, nil
}

// ownStock drops drop-ship lines: what comes back to our sellable stock.
func ownStock(lines []goodsLine) []goodsLine {
	var out []goodsLine
	for _, l := range lines {
		if l.Supplier == "" {
			out = append(out, l)
		}
	}
	return out
}

// suppliersOf maps a pause's drop-ship delivery orders to their supplier.
func suppliersOf(p omsclient.OrderPause) map[string]string {
	out := map[string]string{}
	for _, u := range p.Units {
		if u.Supplier != "" {
			out[u.ID] = u.Supplier
		}
	}
	return out
}
