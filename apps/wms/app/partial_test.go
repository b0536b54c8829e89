package app_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"testing"

	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
)

// picked receives an order of one SKU with a business type, allocates and
// picks it in full, and checks qced units of it at QC; it returns the work
// order and its pick list.
func (f *floor) picked(id, businessType, sku, zone string, qty, qced int64) (domain.WorkOrder, string) {
	f.t.Helper()
	var profiles map[string]string
	if businessType != "" {
		profiles = map[string]string{domain.ProfileBusinessType: businessType}
	}
	wmsID, _, err := f.svc.Receive(f.ctx, domain.Order{DeliveryOrderID: id, OrderID: "O-" + id, CustomerID: "STORE-7", Warehouse: wh,
		Delivery: domain.Delivery{Date: "2026-02-01", Carrier: "ZTO", WaybillNo: "WB-" + id, Name: "Store 7", Phone: "021", Address: "7 Road"},
		Lines:    []domain.Line{{SKU: sku, Qty: qty, Zone: zone}}, Profiles: profiles})
	if err != nil {
		f.t.Fatal(err)
	}
	wos, err := f.svc.SplitOrder(f.ctx, f.outbox(events.TopicOrderReceived, wmsID), wmsID)
	if err != nil {
		f.t.Fatal(err)
	}
	f.must(f.svc.AllocateWorkOrder(f.ctx, wos[0].ID))
	pl, err := f.svc.CreatePickList(f.ctx, wh, "pl-"+id, "op", []string{wos[0].ID})
	if err != nil {
		f.t.Fatal(err)
	}
	task := pl.Tasks[0]
	f.must(f.svc.ClaimTask(f.ctx, wh, task.ID, "picker"))
	for i, s := range task.Steps {
		f.must(f.svc.ScanPick(f.ctx, wh, task.ID, "picker", fmt.Sprint(id, "-s", i), s.Bin, s.SKU, s.Qty))
	}
	if qced > 0 {
		f.must(f.svc.QCScan(f.ctx, wh, pl.ID, id+"-q", sku, qced))
	}
	return wos[0], pl.ID
}

func (f *floor) shortEvent(orderID string) events.ShortageReported {
	f.t.Helper()
	var b []byte
	if err := f.db.QueryRow(`SELECT payload FROM outbox WHERE topic=? AND aggregate_id=?`, events.TopicShortageReported, orderID).Scan(&b); err != nil {
		f.t.Fatalf("no shortage event for %s: %v", orderID, err)
	}
	var ev events.ShortageReported
	if err := json.Unmarshal(b, &ev); err != nil {
		f.t.Fatal(err)
	}
	return ev
}

// QC confirm records the differences; a second QC that finds the items
// makes the work order whole; a standard order cannot ship short.
func TestQCConfirmAndSecondQC(t *testing.T) {
	f := newFloor(t)
	f.receive("C-01", "MILK", "B1", "2026-03-01", 10)
	w, pl := f.picked("S1", "", "MILK", "CHILLED_LOW", 3, 2)
	diff, err := f.svc.ConfirmQC(f.ctx, wh, pl)
	if err != nil || len(diff) != 1 || diff[0] != w.ID {
		t.Fatalf("confirm: %v %v", diff, err)
	}
	if n := f.count(`SELECT short_qty FROM qc_shortages WHERE work_order_id=?`, w.ID); n != 1 {
		t.Fatalf("shortage recorded %d", n)
	}
	if _, err := f.svc.Pack(f.ctx, wh, w.ID, "k", nil); !errors.Is(err, domain.ErrValidation) && !errors.Is(err, domain.ErrState) {
		t.Fatalf("pack a short work order: %v", err)
	}
	if _, _, err := f.svc.ConfirmShortage(f.ctx, wh, w.ID, "c1", nil); !errors.Is(err, domain.ErrState) {
		t.Fatalf("a standard order confirmed short: %v", err)
	}
	got, err := f.svc.SecondQC(f.ctx, wh, w.ID, "q2", "MILK", 1)
	if err != nil || got.Status != domain.WOPicked {
		t.Fatalf("second QC: %+v %v", got, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM qc_shortages WHERE work_order_id=?`, w.ID); n != 0 {
		t.Fatalf("%d shortages left after the second QC found the item", n)
	}
	if _, err := f.svc.SecondQC(f.ctx, wh, w.ID, "q3", "MILK", 1); !errors.Is(err, domain.ErrState) {
		t.Fatalf("second QC of a whole work order: %v", err)
	}
}

// The store chains: what ships, loss records, put-away, and customer
// service told, one business type each.
func TestStoreShortageChains(t *testing.T) {
	f := newFloor(t)
	f.receive("C-01", "MILK", "B1", "2026-03-01", 100)
	f.receive("P-01", "AMB", "B1", "2026-05-01", 4)
	f.receive("P-02", "AMB", "B2", "2026-06-01", 100)
	if _, err := f.svc.PutItem(f.ctx, "AMB", "AMB", "AMBIENT", "STANDARD", 500, 10); err != nil {
		t.Fatal(err)
	}

	// Partial with a loss record: 3 of 5 good ship, 2 written off.
	w, pl := f.picked("L1", "STORE_LOSS", "MILK", "CHILLED_LOW", 5, 3)
	f.must(f.svc.ConfirmQC(f.ctx, wh, pl))
	got, out, err := f.svc.ConfirmShortage(f.ctx, wh, w.ID, "c1", map[string]string{"MILK": "DAMAGED"})
	if err != nil || got.Status != domain.WOPicked || out.Shipping() != 3 || len(out.Losses) != 1 || out.Losses[0].Qty != 2 || len(out.PutAways) != 0 {
		t.Fatalf("store loss: %+v %+v %v", got, out, err)
	}
	if again, _, err := f.svc.ConfirmShortage(f.ctx, wh, w.ID, "c1", map[string]string{"MILK": "DAMAGED"}); err != nil || again.Status != domain.WOPicked {
		t.Fatalf("same key: %v", err)
	}
	if _, _, err := f.svc.ConfirmShortage(f.ctx, wh, w.ID, "c2", nil); !errors.Is(err, domain.ErrState) {
		t.Fatalf("confirmed twice: %v", err)
	}
	if ev := f.shortEvent("O-L1"); ev.Lines[0].Ship != 3 || ev.Lines[0].Short != 2 || ev.Lines[0].Reason != "DAMAGED" {
		t.Fatalf("CS event %+v", ev)
	}
	if n := f.count(`SELECT COUNT(*) FROM inv_tran WHERE kind='LOSS'`); n != 0 {
		t.Fatalf("%d LOSS movements from a loss record without stock transactions", n)
	}
	if _, err := f.svc.Pack(f.ctx, wh, w.ID, "k1", nil); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("no boxes: %v", err)
	}
	if bs, err := f.svc.Pack(f.ctx, wh, w.ID, "k1", packOf("MILK", 3)); err != nil || len(bs) != 1 {
		t.Fatalf("pack what ships: %v", err)
	}

	// Loss record with stock transactions, and put-away by rule: 8 of 12
	// good is under the MOQ of 10, so nothing ships; the 8 go back to the
	// batches they came from, latest pick first.
	w, pl = f.picked("L2", "STORE_LOSS_PUTAWAY", "AMB", "AMBIENT", 12, 8)
	f.must(f.svc.ConfirmQC(f.ctx, wh, pl))
	got, out, err = f.svc.ConfirmShortage(f.ctx, wh, w.ID, "c3", map[string]string{"AMB": "MISSING"})
	if err != nil || got.Status != domain.WOShortClosed || out.Shipping() != 0 || out.Lines[0].Withheld != 8 {
		t.Fatalf("store loss and put-away: %+v %+v %v", got, out, err)
	}
	if fmt.Sprint(out.PutAways) != "[{P-02 AMB B2 8}]" || len(out.Losses) != 1 || out.Losses[0].Qty != 4 || out.Losses[0].Reason != "MISSING" {
		t.Fatalf("put-aways %v, losses %+v", out.PutAways, out.Losses)
	}
	if n := f.count(`SELECT qty FROM inv_tran WHERE kind='LOSS' AND bin_code='BENCH'`); n != -4 {
		t.Fatalf("LOSS movement %d", n)
	}
	tasks, err := f.svc.PutAwayTasks(f.ctx, wh, domain.TaskOpen, 10)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("put-away tasks %+v %v", tasks, err)
	}
	var se *domain.ScanError
	if _, err := f.svc.ConfirmPutAway(f.ctx, wh, tasks[0].ID, "p1", "op", "P-01"); !errors.As(err, &se) || se.Expected != "P-02" {
		t.Fatalf("wrong bin: %v", err)
	}
	before, _ := f.inv("P-02", "AMB")
	erpBefore := f.count(`SELECT on_hand FROM erp_stock WHERE sku='AMB'`)
	for range 2 {
		if _, err := f.svc.ConfirmPutAway(f.ctx, wh, tasks[0].ID, "p1", "op", "P-02"); err != nil {
			t.Fatal(err)
		}
	}
	if after, _ := f.inv("P-02", "AMB"); after != before+8 {
		t.Fatalf("P-02 on hand %d → %d, want +8 once", before, after)
	}
	if erp := f.count(`SELECT on_hand FROM erp_stock WHERE sku='AMB'`); erp != erpBefore+8 {
		t.Fatalf("ERP on hand %d → %d", erpBefore, erp)
	}

	// Put-away only, random batch: 4 of 11 good is under the MOQ; no loss.
	w, pl = f.picked("L3", "STORE_PUTAWAY", "AMB", "AMBIENT", 11, 4)
	f.must(f.svc.ConfirmQC(f.ctx, wh, pl))
	got, out, err = f.svc.ConfirmShortage(f.ctx, wh, w.ID, "c4", nil)
	if err != nil || got.Status != domain.WOShortClosed || len(out.Losses) != 0 || len(out.PutAways) != 1 || out.PutAways[0].Qty != 4 {
		t.Fatalf("store put-away: %+v %+v %v", got, out, err)
	}
	if ev := f.shortEvent("O-L3"); ev.Status != "SHORT_CLOSED" || ev.Lines[0].Withheld != 4 {
		t.Fatalf("CS event %+v", ev)
	}
	if ps, open, _ := f.svc.OrderParcels(f.ctx, "O-L3"); len(ps) != 0 || open != 0 {
		t.Fatalf("a closed work order still counts as open: %d parcels, %d open", len(ps), open)
	}
}

func packOf(sku string, qty int64) []app.PackInput {
	return []app.PackInput{{Lines: []domain.Line{{SKU: sku, Qty: qty}}}}
}

// A store customer's orders take their business type's chain without an
// order profile naming it.
func TestStoreCustomerBusinessType(t *testing.T) {
	f := newFloor(t)
	f.receive("C-01", "MILK", "B1", "2026-03-01", 10)
	if err := f.svc.PutStoreCustomer(f.ctx, "STORE-7", "NO_SUCH_TYPE"); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("unknown type: %v", err)
	}
	if err := f.svc.PutStoreCustomer(f.ctx, "STORE-7", "STORE_LOSS"); err != nil {
		t.Fatal(err)
	}
	w, pl := f.picked("SC1", "", "MILK", "CHILLED_LOW", 4, 3)
	f.must(f.svc.ConfirmQC(f.ctx, wh, pl))
	got, out, err := f.svc.ConfirmShortage(f.ctx, wh, w.ID, "c", nil)
	if err != nil || got.Status != domain.WOPicked || out.Shipping() != 3 || len(out.Losses) != 1 {
		t.Fatalf("store customer's order: %+v %+v %v", got, out, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM shortage_confirms WHERE business_type='STORE_LOSS'`); n != 1 {
		t.Fatalf("%d confirmations as STORE_LOSS", n)
	}
}
