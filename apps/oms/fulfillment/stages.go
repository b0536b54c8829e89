package fulfillment

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/marketing/marketingclient"
	"github.com/harvest/harvest/apps/oms/app"
	"github.com/harvest/harvest/apps/oms/domain"
	"github.com/harvest/harvest/apps/partners/partnersclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/platform/money"
	"github.com/harvest/harvest/apps/platform/outbox"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// callsPartner marks the stages that call another system and so have a
// circuit breaker.
var callsPartner = [NumStages + 1]bool{StageInitial: true, StageGifts: true, StageFill: true, StageVoucher: true,
	StageAudit: true, StagePresale: true, StageWaybill: true, StageERPStock: true, StageReissueSMS: true,
	StageInvoice: true, StageDispatch: true}

// effectFree marks the stages whose passing (a NEXT outcome) is not
// committed on its own, because a re-run repeats nothing: they compute on
// the document (exception check, allocation, split), read (the catalog,
// the fraud score), or make their one effect through a Harvest service
// that keeps it idempotent by the unit's id — marketing's gift grant,
// WMS's ERP stock occupation, the throttle's capacity grant (committed by
// the stage itself) — so a re-run gets the first answer back. Such a
// stage hands its unit straight to the next stage's queue and its
// timeline row rides on the unit's next commit; a crash before that
// commit only makes the stage run again. Every other outcome of theirs
// (retry, pause, exception, cancel) and the last stage of a unit commit
// as usual. The stages that reach an outside partner always commit: the
// partner's own deduplication is not Harvest's to guarantee, so the
// receipt must be saved before the unit moves on. This takes about two
// fifths of the engine's commits (and document rewrites) off every order.
var effectFree = [NumStages + 1]bool{StageCheck: true, StageGifts: true, StageFill: true, StageAllocate: true,
	StageSplit: true, StageAudit: true, StageERPStock: true, StageThrottle: true}

// applies says whether stage s has work for u; the state machine skips
// the stages that have none.
func applies(s Stage, u *Unit) bool {
	d := &u.Doc
	if s <= lastOrderStage {
		if u.IsChild() {
			return false
		}
		if s == StagePresale {
			return slices.ContainsFunc(d.Lines, func(l domain.FLine) bool { return l.Presale })
		}
		return true
	}
	if !u.IsChild() || d.Child == nil {
		return false
	}
	c := d.Child
	switch s {
	case StageWaybill, StageERPStock, StageThrottle:
		return !c.DropShip // the supplier ships drop-ship lines with its own courier, from its own stock
	case StageReissueSMS:
		return c.Primary && (d.Source == domain.SourceReissue || d.Source == domain.SourceExchange)
	case StageInvoice:
		return c.Primary && strings.TrimSpace(d.InvoiceTitle) != ""
	}
	return true
}

type stageFn func(ctx context.Context, u *Unit) Outcome

func (e *Engine) stageFunc(s Stage) stageFn {
	switch s {
	case StageInitial:
		return e.initial
	case StageCheck:
		return e.check
	case StageGifts:
		return e.giftsStage
	case StageFill:
		return e.fill
	case StageAllocate:
		return e.allocate
	case StageVoucher:
		return e.voucher
	case StageSplit:
		return e.split
	case StageAudit:
		return e.audit
	case StagePresale:
		return e.presale
	case StageEffective:
		return e.effective
	case StageWaybill:
		return e.waybill
	case StageERPStock:
		return e.erpStock
	case StageThrottle:
		return e.throttle
	case StageReissueSMS:
		return e.reissueSMS
	case StageInvoice:
		return e.invoice
	case StageDispatch:
		return e.dispatch
	}
	return func(context.Context, *Unit) Outcome { return Fail("UNKNOWN_STAGE", fmt.Sprintf("no stage %d", s)) }
}

// failure turns a partner error into an outcome: a refusal (a 4xx
// Problem other than "unavailable") goes to the exception queue, anything
// else (timeouts, 5xx, a partner switched off) is passing: retry with
// backoff, and count against the stage's breaker.
func (e *Engine) failure(u *Unit, what string, err error) Outcome {
	var p *httpapi.Problem
	if errors.As(err, &p) && p.Status >= 400 && p.Status < 500 && p.Code != partnersclient.CodeUnavailable &&
		p.Status != http.StatusTooManyRequests && p.Status != http.StatusRequestTimeout {
		return Fail("PARTNER_REJECTED", fmt.Sprintf("%s: %v", what, err))
	}
	o := Retry(e.backoff(u.Attempts), "PARTNER_UNAVAILABLE", fmt.Sprintf("%s: %v", what, err))
	o.passing = true
	return o
}

// once runs an effect unless the document records it under id already;
// the partner deduplicates id too, for a crash between call and commit.
func once(u *Unit, id string, call func() (string, error)) error {
	if u.Doc.Receipts == nil {
		u.Doc.Receipts = map[string]string{}
	}
	if _, done := u.Doc.Receipts[id]; done {
		return nil
	}
	r, err := call()
	if err != nil {
		return err
	}
	u.Doc.Receipts[id] = r
	return nil
}

func fen(f money.Fen) string { return f.String() }

// Stage 1: SMS ORDER_PAID and the official-account and mini-program
// pushes, sent at once: three independent messages, each idempotent.
func (e *Engine) initial(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	if d.Receipts == nil {
		d.Receipts = map[string]string{}
	}
	params := map[string]string{"order_id": d.OrderID, "total": fen(d.Header.Total)}
	type msg struct {
		id, what string
		send     func() (partnersclient.Receipt, error)
	}
	smsID := d.OrderID + ":initial:sms"
	msgs := []msg{{smsID, "order SMS", func() (partnersclient.Receipt, error) {
		return e.partners.SendSMS(ctx, partnersclient.SMS{MessageID: smsID, Phone: d.Address.Phone, Template: "ORDER_PAID", Params: params})
	}}}
	for _, ch := range []string{partnersclient.PushOfficialAccount, partnersclient.PushMiniProgram} {
		id := d.OrderID + ":initial:push:" + ch
		msgs = append(msgs, msg{id, "push " + ch, func() (partnersclient.Receipt, error) {
			return e.partners.SendPush(ctx, partnersclient.Push{MessageID: id, CustomerID: d.CustomerID, Channel: ch,
				Template: "PAYMENT_SUCCEEDED", Params: params})
		}})
	}
	var (
		mu   sync.Mutex
		wg   sync.WaitGroup
		fail Outcome
	)
	// Pick the messages still to send before any goes out: the senders
	// write d.Receipts while this loop would otherwise still read it.
	var todo []msg
	for _, m := range msgs {
		if _, done := d.Receipts[m.id]; !done {
			todo = append(todo, m)
		}
	}
	for _, m := range todo {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := m.send()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if fail.Kind == "" {
					fail = e.failure(u, m.what, err)
				}
				return
			}
			d.Receipts[m.id] = r.ID
		}()
	}
	wg.Wait()
	if fail.Kind != "" {
		return fail // the messages that went out are recorded; the retry sends only the rest
	}
	return Next("SMS and pushes sent")
}

// Stage 2: the amounts add up and the address is deliverable.
func (e *Engine) check(_ context.Context, u *Unit) Outcome {
	d := &u.Doc
	vs := domain.CheckAmounts(d.Header, d.Lines)
	vs = append(vs, domain.CheckDelivery(d.Address, e.cfg.ServedProvinces)...)
	if len(vs) > 0 {
		parts := make([]string, len(vs))
		for i, v := range vs {
			parts[i] = v.Field + " " + v.Code + " (" + v.Message + ")"
		}
		return Fail("EXCEPTION_CHECK", strings.Join(parts, "; "))
	}
	return Next("amounts and address checked")
}

// Stage 3: goods gifts the order qualifies for, added at zero price.
func (e *Engine) giftsStage(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	if d.GiftsAsked {
		return Next("gifts already added")
	}
	q := marketingclient.GiftQuery{OrderID: d.OrderID, CustomerID: d.CustomerID, GoodsFen: d.Header.Goods, PlacedAt: d.PlacedAt}
	for _, l := range d.Lines {
		q.Lines = append(q.Lines, marketingclient.OrderLine{SKU: l.SKU, Qty: l.Qty, AmountFen: l.Amount})
	}
	grants, err := e.gifts.GiftsFor(ctx, q)
	if err != nil {
		return e.failure(u, "gifts", err)
	}
	for _, g := range grants {
		if g.Qty <= 0 || g.SKU == "" {
			continue
		}
		d.Lines = append(d.Lines, domain.FLine{SKU: g.SKU, Qty: g.Qty, Kind: domain.KindGift, Campaign: g.CampaignID,
			DeliveryDate: d.Slot.Date})
	}
	d.Gifts, d.GiftsAsked = grants, true
	return Next(fmt.Sprintf("%d gifts", len(grants)))
}

// Stage 4: expand virtual bundles and fill catalog data.
func (e *Engine) fill(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	if d.Filled {
		return Next("already filled")
	}
	prods, err := e.products(ctx, skusOf(d.Lines))
	if err != nil {
		return e.catalogFailure(u, err)
	}
	var compSKUs []string
	for _, p := range prods {
		for _, c := range p.Components {
			compSKUs = append(compSKUs, c.SKU)
		}
	}
	comps, err := e.products(ctx, compSKUs)
	if err != nil {
		return e.catalogFailure(u, err)
	}
	var out []domain.FLine
	bundles := 0
	for _, l := range d.Lines {
		p := prods[l.SKU]
		if len(p.Components) == 0 {
			out = append(out, fillLine(l, p))
			continue
		}
		bundles++
		cps := make([]domain.ComponentPrice, len(p.Components))
		for i, c := range p.Components {
			cp := comps[c.SKU]
			cps[i] = domain.ComponentPrice{SKU: c.SKU, Name: cp.Name, Qty: c.Qty, UnitPrice: cp.PriceFen}
		}
		parts, err := domain.ExpandBundle(l, cps)
		if err != nil {
			return Fail("BAD_BUNDLE", err.Error())
		}
		for _, c := range parts {
			if l.Kind == domain.KindGift {
				c.Kind, c.Campaign = domain.KindGift, l.Campaign
			}
			out = append(out, fillLine(c, comps[c.SKU]))
		}
	}
	d.Lines, d.Filled = out, true
	return Next(fmt.Sprintf("%d lines, %d bundles expanded", len(out), bundles))
}

func fillLine(l domain.FLine, p inventoryclient.Product) domain.FLine {
	if l.Name == "" {
		l.Name = p.Name
	}
	l.TaxRateBP, l.Zone, l.Warehouse, l.Supplier = p.TaxRateBP, p.Zone, p.Warehouse, p.Supplier
	l.DropShip, l.Presale = p.DropShip, p.Presale
	return l
}

func skusOf(lines []domain.FLine) []string {
	var out []string
	for _, l := range lines {
		if !slices.Contains(out, l.SKU) {
			out = append(out, l.SKU)
		}
	}
	return out
}

func (e *Engine) products(ctx context.Context, skus []string) (map[string]inventoryclient.Product, error) {
	out := map[string]inventoryclient.Product{}
	if len(skus) == 0 {
		return out, nil
	}
	slices.Sort(skus)
	skus = slices.Compact(skus)
	ps, err := e.catalog.CatalogEntries(ctx, skus)
	if err != nil {
		return nil, err
	}
	for _, p := range ps {
		out[p.SKU] = p
	}
	for _, s := range skus {
		if _, ok := out[s]; !ok {
			return nil, &httpapi.Problem{Status: http.StatusNotFound, Code: inventoryclient.CodeUnknownSKU, Message: "unknown SKU " + s}
		}
	}
	return out, nil
}

func (e *Engine) catalogFailure(u *Unit, err error) Outcome {
	if httpapi.HasCode(err, inventoryclient.CodeUnknownSKU) {
		return Fail("UNKNOWN_SKU", err.Error())
	}
	return e.failure(u, "catalog", err)
}

// Stage 5: spread freight and non-cash over the lines.
func (e *Engine) allocate(_ context.Context, u *Unit) Outcome {
	d := &u.Doc
	lines, err := domain.Allocate(d.Lines, d.Header.Freight, d.Header.NonCash)
	if err != nil {
		return Fail("ALLOCATION", err.Error())
	}
	var goods money.Fen
	for _, l := range lines {
		goods += l.Amount
	}
	if goods != d.Header.Goods {
		return Fail("ALLOCATION", fmt.Sprintf("lines sum to %s, goods %s", goods, d.Header.Goods))
	}
	d.Lines, d.Allocated = lines, true
	return Next("freight " + fen(d.Header.Freight) + ", non-cash " + fen(d.Header.NonCash) + " allocated")
}

// Stage 6: the payment voucher to finance.
func (e *Engine) voucher(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	id := d.OrderID + ":voucher"
	v := partnersclient.Voucher{VoucherID: id, OrderID: d.OrderID, CustomerID: d.CustomerID, CashFen: d.Header.Paid,
		NonCashFen: d.Header.NonCash, TotalFen: d.Header.Total}
	for _, l := range d.Lines {
		v.Lines = append(v.Lines, partnersclient.VoucherLine{SKU: l.SKU, AmountFen: l.Payable(), TaxRateBP: l.TaxRateBP})
	}
	if err := once(u, id, func() (string, error) {
		r, err := e.partners.PushVoucher(ctx, v)
		return r.ID, err
	}); err != nil {
		return e.failure(u, "voucher", err)
	}
	return Next("voucher " + id)
}

// Stage 7: the plan of delivery orders; they are made after stage 10.
func (e *Engine) split(_ context.Context, u *Unit) Outcome {
	d := &u.Doc
	d.Deliveries = domain.Split(d.Lines)
	labels := make([]string, len(d.Deliveries))
	for i, x := range d.Deliveries {
		labels[i] = deliveryLabel(x)
	}
	return Next(fmt.Sprintf("%d delivery orders: %s", len(d.Deliveries), strings.Join(labels, "; ")))
}

// Stage 8: fraud audit. REJECT cancels the order (PAY refunds on the
// cancel event); REVIEW waits for an operator in the exception queue.
func (e *Engine) audit(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	if d.Fraud == nil {
		v, err := e.partners.ScoreFraud(ctx, partnersclient.FraudRequest{OrderID: d.OrderID, CustomerID: d.CustomerID,
			AmountFen: d.Header.Total, Phone: d.Address.Phone, Address: addressLine(d.Address)})
		if err != nil {
			return e.failure(u, "fraud score", err)
		}
		d.Fraud = &v
	}
	note := fmt.Sprintf("score %d, %s", d.Fraud.Score, d.Fraud.Decision)
	switch d.Fraud.Decision {
	case partnersclient.FraudAccept:
		return Next(note)
	case partnersclient.FraudReview:
		if d.FraudCleared {
			return Next(note + ", cleared by an operator")
		}
		return Fail("FRAUD_REVIEW", note)
	case partnersclient.FraudReject:
		o := Outcome{Kind: OutcomeCancel, Code: "FRAUD", Note: note}
		o.tx = func(ctx context.Context, tx *sql.Tx) error {
			now := e.clock.Now()
			_, err := e.orders.UpdateTx(ctx, tx, d.OrderID, func(ord *domain.Order) ([]outbox.Event, error) {
				if err := ord.CancelInFulfillment(domain.ReasonFraud, now, "fraud audit: "+note); err != nil {
					return nil, err
				}
				return []outbox.Event{app.CancelledEvent(ord, now)}, nil
			})
			return err
		}
		return o
	}
	return Fail("FRAUD_UNKNOWN", "unknown decision "+d.Fraud.Decision)
}

func addressLine(a domain.Address) string {
	return a.Province + a.City + a.District + a.Detail
}

// Stage 9: presale lines to purchasing.
func (e *Engine) presale(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	p := partnersclient.PresaleOrder{OrderID: d.OrderID}
	for _, l := range d.Lines {
		if l.Presale {
			p.Lines = append(p.Lines, partnersclient.GoodsLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty})
		}
	}
	id := d.OrderID + ":presale"
	if err := once(u, id, func() (string, error) {
		r, err := e.partners.PushPresale(ctx, p)
		return r.ID, err
	}); err != nil {
		return e.failure(u, "presale", err)
	}
	return Next(fmt.Sprintf("%d presale lines pushed", len(p.Lines)))
}

// Stage 10: not before the order may go to the warehouse.
func (e *Engine) effective(_ context.Context, u *Unit) Outcome {
	d := &u.Doc
	now := e.clock.Now()
	at, err := domain.EffectiveAt(d.Slot, now)
	if err != nil {
		return Fail("BAD_SLOT", err.Error())
	}
	if d.EffectiveAt.IsZero() || at.After(d.EffectiveAt) {
		d.EffectiveAt = at
	}
	if now.Before(d.EffectiveAt) {
		return Pause(d.EffectiveAt, "EFFECTIVE_TIME", "to the warehouse at "+d.EffectiveAt.In(domain.Shanghai).Format("2006-01-02 15:04 MST"))
	}
	return Next("effective")
}

// Stage 11: a courier and waybill from TMS per delivery order.
func (e *Engine) waybill(ctx context.Context, u *Unit) Outcome {
	d, c := &u.Doc, u.Doc.Child
	if c.WaybillNo == "" {
		w, err := e.partners.RequestWaybill(ctx, partnersclient.WaybillRequest{DeliveryOrderID: u.ID, Warehouse: c.Warehouse,
			Address: addressLine(d.Address), Phone: d.Address.Phone, DeliveryDate: c.DeliveryDate, Express: d.Slot.Type == domain.SlotExpress})
		if err != nil {
			return e.failure(u, "waybill", err)
		}
		c.Carrier, c.WaybillNo = w.Carrier, w.WaybillNo
	}
	return Next(c.Carrier + " " + c.WaybillNo)
}

func wmsLines(lines []domain.FLine) []wmsclient.Line {
	out := make([]wmsclient.Line, len(lines))
	for i, l := range lines {
		out[i] = wmsclient.Line{SKU: l.SKU, Name: l.Name, Qty: l.Qty, Zone: l.Zone}
	}
	return out
}

// Stage 12: occupy ERP stock per delivery order; short stock is an exception.
func (e *Engine) erpStock(ctx context.Context, u *Unit) Outcome {
	c := u.Doc.Child
	if !c.Occupied {
		_, err := e.wh.OccupyStock(ctx, wmsclient.OccupyRequest{DeliveryOrderID: u.ID, Warehouse: c.Warehouse, Lines: wmsLines(c.Lines)})
		if httpapi.HasCode(err, wmsclient.CodeStockShort) || httpapi.HasCode(err, wmsclient.CodeUnknownWH) {
			return Fail("ERP_STOCK_SHORT", err.Error())
		}
		if err != nil {
			return e.failure(u, "ERP stock", err)
		}
		c.Occupied = true
	}
	return Next("ERP stock occupied in " + c.Warehouse)
}

// Stage 13: the warehouse's daily capacity; full pauses to the next day.
// The capacity is taken outside the group commit, together with a grant
// row keyed by the delivery order, so a re-run takes nothing more; the
// takes waiting at a moment share one short transaction (throttle.go).
// (Taking it inside the group commit was tried: the capacity row is hot,
// and a batch holding it until its fsync serialized every batch behind
// it — throughput fell fourfold.)
func (e *Engine) throttle(ctx context.Context, u *Unit) Outcome {
	c := u.Doc.Child
	now := e.clock.Now()
	day := domain.ShanghaiDay(now)
	ok, err := e.takeCapacity(ctx, u.ID, c.Warehouse, day, now)
	if err != nil {
		return Retry(e.backoff(u.Attempts), "DB", err.Error())
	}
	if !ok {
		return Pause(domain.NextShanghaiMidnight(now), "WAREHOUSE_FULL", c.Warehouse+" is full on "+day)
	}
	c.Day = day
	return Next(c.Warehouse + " capacity of " + day)
}

// Stage 14: tell the customer about the reissue or exchange.
func (e *Engine) reissueSMS(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	tpl := "REISSUE_CREATED"
	if d.Source == domain.SourceExchange {
		tpl = "EXCHANGE_CREATED"
	}
	id := d.OrderID + ":reissue:sms"
	if err := once(u, id, func() (string, error) {
		r, err := e.partners.SendSMS(ctx, partnersclient.SMS{MessageID: id, Phone: d.Address.Phone, Template: tpl,
			Params: map[string]string{"order_id": d.OrderID, "original_order": d.OriginalOrder}})
		return r.ID, err
	}); err != nil {
		return e.failure(u, "reissue SMS", err)
	}
	return Next(tpl)
}

// Stage 15: invoice data for the whole order.
func (e *Engine) invoice(ctx context.Context, u *Unit) Outcome {
	d := &u.Doc
	id := d.OrderID + ":invoice"
	req := partnersclient.InvoiceRequest{InvoiceID: id, OrderID: d.OrderID, Title: d.InvoiceTitle}
	for _, l := range d.OrderLines {
		if l.Payable() == 0 {
			continue // gifts are not invoiced
		}
		req.Lines = append(req.Lines, partnersclient.InvoiceLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty, AmountFen: l.Payable(), TaxRateBP: l.TaxRateBP})
	}
	if err := once(u, id, func() (string, error) {
		r, err := e.partners.IssueInvoice(ctx, req)
		return r.ID, err
	}); err != nil {
		return e.failure(u, "invoice", err)
	}
	return Next(fmt.Sprintf("invoice %s, %d lines", id, len(req.Lines)))
}

// Stage 16: hand the delivery order to WMS, or a drop-ship one to its supplier.
func (e *Engine) dispatch(ctx context.Context, u *Unit) Outcome {
	d, c := &u.Doc, u.Doc.Child
	if c.WMSID == "" {
		if c.DropShip {
			so := partnersclient.SupplierOrder{DeliveryOrderID: u.ID, Supplier: c.Supplier, Name: d.Address.Name,
				Phone: d.Address.Phone, Address: addressLine(d.Address), DeliveryDate: c.DeliveryDate}
			for _, l := range c.Lines {
				so.Lines = append(so.Lines, partnersclient.GoodsLine{SKU: l.SKU, Name: l.Name, Qty: l.Qty})
			}
			r, err := e.partners.SendToSupplier(ctx, so)
			if err != nil {
				return e.failure(u, "supplier", err)
			}
			c.WMSID = "supplier:" + r.ID
		} else {
			r, err := e.wh.Dispatch(ctx, wmsclient.DispatchRequest{DeliveryOrderID: u.ID, OrderID: d.OrderID, CustomerID: d.CustomerID,
				Warehouse: c.Warehouse, DeliveryDate: c.DeliveryDate, Express: d.Slot.Type == domain.SlotExpress,
				Carrier: c.Carrier, WaybillNo: c.WaybillNo, Name: d.Address.Name, Phone: d.Address.Phone, Address: addressLine(d.Address),
				Lines: wmsLines(c.Lines), Profiles: map[string]string{"source": string(d.Source), "invoice_title": d.InvoiceTitle,
					"child_seq": strconv.Itoa(u.Seq)}})
			if err != nil {
				return e.failure(u, "dispatch", err)
			}
			c.WMSID = r.WMSOrderID
		}
	}
	return Next("dispatched: " + c.WMSID)
}
