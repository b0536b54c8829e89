package app_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/platform/clock"
	"github.com/harvest/harvest/apps/platform/testdb"
	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/events"
	"github.com/harvest/harvest/apps/wms/store"
)

const wh = "WH-SH"

// fakeTMS records imports and answers parcel states the test sets.
type fakeTMS struct {
	mu      sync.Mutex
	imports map[string]int
	states  map[string]string
	refused map[string][]domain.ParcelLine // the courier's report of a REFUSED parcel
}

func (f *fakeTMS) ImportParcels(_ context.Context, h events.HandoverCompleted) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.imports[h.BatchID]++
	return nil
}

func (f *fakeTMS) ParcelState(_ context.Context, id string) (domain.ParcelReport, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return domain.ParcelReport{State: f.states[id], At: time.Now(), RefusedLines: f.refused[id]}, nil
}

// fakeERP books movements once by id, counting deliveries; fail makes
// the next upload fail. It holds purchase orders: PO-1 orders plenty of
// every SKU the floor receives.
type fakeERP struct {
	mu     sync.Mutex
	booked map[string]int
	fail   bool
	pos    map[string]domain.PurchaseOrder
}

func (f *fakeERP) PurchaseOrder(_ context.Context, id string) (domain.PurchaseOrder, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.pos[id]
	if !ok {
		return p, fmt.Errorf("%w: %s", domain.ErrUnknownPO, id)
	}
	return p, nil
}

func (f *fakeERP) UploadMovements(_ context.Context, ms []domain.Movement) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail {
		f.fail = false
		return errors.New("ERP is down")
	}
	for _, m := range ms {
		f.booked[m.ID]++
	}
	return nil
}

type floor struct {
	t   *testing.T
	db  *sql.DB
	svc *app.Service
	tms *fakeTMS
	erp *fakeERP
	ctx context.Context
}

func newFloor(t *testing.T) *floor {
	t.Helper()
	db, _ := testdb.New(t, "wms")
	db.SetMaxOpenConns(16)
	svc := app.New(store.New(db), clock.System{}, nil, nil)
	tms := &fakeTMS{imports: map[string]int{}, states: map[string]string{}, refused: map[string][]domain.ParcelLine{}}
	erpFake := &fakeERP{booked: map[string]int{}, pos: map[string]domain.PurchaseOrder{
		"PO-1": {ID: "PO-1", Warehouse: wh, Supplier: "S1", Lines: map[string]int64{"AMB": 1e6, "FRZ": 1e6, "MILK": 1e6}}}}
	svc.SetOutbound([]string{"SF"}, tms, erpFake)
	f := &floor{t: t, db: db, svc: svc, tms: tms, erp: erpFake, ctx: context.Background()}
	for _, z := range [][3]string{{"A-PICK", "AMBIENT", "PICK"}, {"A-RES", "AMBIENT", "RESERVE"}, {"F-PICK", "FROZEN_LOW", "PICK"}, {"C-PICK", "CHILLED_LOW", "PICK"}} {
		f.must(f.svc.PutZone(f.ctx, wh, z[0], z[1], z[2]))
	}
	for _, b := range [][2]string{{"P-01", "A-PICK"}, {"P-02", "A-PICK"}, {"R-01", "A-RES"}, {"F-01", "F-PICK"}, {"C-01", "C-PICK"}} {
		f.must(nil, f.svc.PutBin(f.ctx, wh, b[0], b[1]))
	}
	for _, it := range [][3]string{{"AMB", "AMBIENT", "STANDARD"}, {"FRZ", "FROZEN_LOW", "STANDARD"}, {"MILK", "CHILLED_LOW", "STANDARD"}} {
		f.must(f.svc.PutItem(f.ctx, it[0], it[0], it[1], it[2], 500, 0))
	}
	return f
}

func (f *floor) must(_ any, err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

var keys atomic.Int64

func (f *floor) receive(bin, sku, batch, expiry string, qty int64) {
	f.t.Helper()
	_, _, err := f.svc.ReceiveGoods(f.ctx, app.ReceiptInput{Warehouse: wh, IdempotencyKey: fmt.Sprint("r", keys.Add(1)), PurchaseOrder: "PO-1",
		Bin: bin, SKU: sku, Batch: batch, ProductionDate: "2026-01-01", ExpiryDate: expiry, Qty: qty, Operator: "op1"})
	if err != nil {
		f.t.Fatal(err)
	}
}

// order receives a dispatched order and splits it on its message.
func (f *floor) order(id, carrier string, lines ...domain.Line) []domain.WorkOrder {
	f.t.Helper()
	wmsID, _, err := f.svc.Receive(f.ctx, domain.Order{DeliveryOrderID: id, OrderID: "O-" + id, CustomerID: "C1", Warehouse: wh,
		Delivery: domain.Delivery{Date: "2026-02-01", Carrier: carrier, WaybillNo: "WB-" + id, Name: "Li", Phone: "138", Address: "1 Road"}, Lines: lines})
	if err != nil {
		f.t.Fatal(err)
	}
	msg := f.outbox(events.TopicOrderReceived, wmsID)
	wos, err := f.svc.SplitOrder(f.ctx, msg, wmsID)
	if err != nil {
		f.t.Fatal(err)
	}
	return wos
}

// outbox returns the id of the last event of topic for aggregate.
func (f *floor) outbox(topic, aggregate string) string {
	f.t.Helper()
	var id string
	if err := f.db.QueryRow(`SELECT msg_id FROM outbox WHERE topic=? AND aggregate_id=? ORDER BY msg_id DESC LIMIT 1`, topic, aggregate).Scan(&id); err != nil {
		f.t.Fatalf("no %s event for %s: %v", topic, aggregate, err)
	}
	return id
}

func (f *floor) count(q string, args ...any) int64 {
	f.t.Helper()
	var n int64
	if err := f.db.QueryRow(q, args...).Scan(&n); err != nil {
		f.t.Fatal(err)
	}
	return n
}

func (f *floor) inv(bin, sku string) (onHand, occupied int64) {
	f.t.Helper()
	if err := f.db.QueryRow(`SELECT COALESCE(SUM(on_hand),0), COALESCE(SUM(occupied),0) FROM wms_inv WHERE bin_code=? AND sku=?`, bin, sku).
		Scan(&onHand, &occupied); err != nil {
		f.t.Fatal(err)
	}
	return
}

func TestOutboundFromSplitToHandover(t *testing.T) {
	f := newFloor(t)
	f.receive("P-01", "AMB", "B2", "2026-09-01", 5)
	f.receive("R-01", "AMB", "B1", "2026-06-01", 10)

	wos := f.order("D1", "SF", domain.Line{SKU: "AMB", Name: "rice", Qty: 7, Zone: "AMBIENT"}, domain.Line{SKU: "FRZ", Qty: 1, Zone: "FROZEN_LOW"})
	if len(wos) != 2 || wos[0].Zone != domain.Ambient || wos[1].Zone != domain.FrozenLow {
		t.Fatalf("split: %+v", wos)
	}
	// A redelivered wms.order.received changes nothing.
	wmsID := wos[0].WMSOrderID
	if again, err := f.svc.SplitOrder(f.ctx, f.outbox(events.TopicOrderReceived, wmsID), wmsID); err != nil || len(again) != 0 {
		t.Fatalf("redelivery: %v %v", again, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM sales_order`); n != 2 {
		t.Fatalf("%d work orders after a redelivery", n)
	}
	if n := f.count(`SELECT COUNT(*) FROM outbox WHERE topic=?`, events.TopicWorkOrderCreated); n != 2 {
		t.Fatalf("%d work-order-created events", n)
	}

	amb, err := f.svc.AllocateWorkOrder(f.ctx, wos[0].ID)
	if err != nil || amb.Status != domain.WOAllocated {
		t.Fatalf("allocate ambient: %+v %v", amb, err)
	}
	if oh, occ := f.inv("P-01", "AMB"); oh != 5 || occ != 5 {
		t.Fatalf("pick bin %d/%d: the pick area goes first", oh, occ)
	}
	if oh, occ := f.inv("R-01", "AMB"); oh != 10 || occ != 2 {
		t.Fatalf("reserve %d/%d", oh, occ)
	}
	// Stock by bin, batch and expiry.
	for _, c := range []struct {
		f    domain.StockFilter
		want int
	}{
		{domain.StockFilter{SKU: "AMB"}, 2}, {domain.StockFilter{Bin: "R-01"}, 1}, {domain.StockFilter{Batch: "B2"}, 1},
		{domain.StockFilter{SKU: "AMB", ExpiringBefore: time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)}, 1},
	} {
		if bs, err := f.svc.BinStock(f.ctx, wh, c.f); err != nil || len(bs) != c.want {
			t.Fatalf("stock by %+v: %d rows, want %d (%v)", c.f, len(bs), c.want, err)
		}
	}
	frz, err := f.svc.AllocateWorkOrder(f.ctx, wos[1].ID)
	if err != nil || frz.Status != domain.WOWaitingStock || frz.Reason != "stock short: FRZ needs 1, 0 free in pick and reserve areas" {
		t.Fatalf("allocate frozen: %+v %v", frz, err)
	}
	f.outbox(events.TopicWorkOrderSuspended, frz.ID)
	// Stock arrives: the receipt's event releases the waiting work order.
	f.receive("F-01", "FRZ", "B1", "2026-03-01", 3)
	if n, err := f.svc.ReleaseWaiting(f.ctx, wh, "FRZ"); err != nil || n != 1 {
		t.Fatalf("release: %d %v", n, err)
	}
	if w, _, _ := f.svc.WorkOrder(f.ctx, wh, frz.ID); w.Status != domain.WOAllocated || w.Reason != "" {
		t.Fatalf("after receipt: %+v", w)
	}
	// Allocating again (a redelivered message) takes nothing more.
	if _, err := f.svc.AllocateWorkOrder(f.ctx, wos[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, occ := f.inv("R-01", "AMB"); occ != 2 {
		t.Fatalf("reallocation occupied %d", occ)
	}

	// Pick list and RF picking.
	if _, err := f.svc.CreatePickList(f.ctx, wh, "pl1", "op1", []string{wos[0].ID, "NOPE"}); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown work order: %v", err)
	}
	pl, err := f.svc.CreatePickList(f.ctx, wh, "pl1", "op1", []string{wos[0].ID, wos[1].ID})
	if err != nil || len(pl.Tasks) != 2 || len(pl.WorkOrder) != 2 {
		t.Fatalf("pick list %+v %v", pl, err)
	}
	if again, err := f.svc.CreatePickList(f.ctx, wh, "pl1", "op1", []string{wos[0].ID, wos[1].ID}); err != nil || again.ID != pl.ID {
		t.Fatalf("same key: %v %v", again.ID, err)
	}
	if _, err := f.svc.CreatePickList(f.ctx, wh, "pl1", "op1", []string{wos[1].ID}); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused: %v", err)
	}
	if _, err := f.svc.CreatePickList(f.ctx, "WH-BJ", "pl9", "op1", []string{wos[0].ID}); !errors.Is(err, domain.ErrWrongWarehouse) {
		t.Fatalf("other warehouse: %v", err)
	}
	ambTask := pl.Tasks[0]
	if _, err := f.svc.ClaimTask(f.ctx, wh, ambTask.ID, "picker1"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.ClaimTask(f.ctx, wh, ambTask.ID, "picker2"); !errors.Is(err, domain.ErrTaskTaken) {
		t.Fatalf("second picker: %v", err)
	}
	if _, err := f.svc.ScanPick(f.ctx, wh, ambTask.ID, "picker2", "s0", "P-01", "AMB", 1); !errors.Is(err, domain.ErrTaskTaken) {
		t.Fatalf("scan by a picker not holding the task: %v", err)
	}
	var se *domain.ScanError
	if _, err := f.svc.ScanPick(f.ctx, wh, ambTask.ID, "picker1", "s1", "R-01", "AMB", 1); !errors.As(err, &se) || se.Code != domain.ScanWrongBin || se.Expected != "P-01" {
		t.Fatalf("wrong bin: %v", err)
	}
	if _, err := f.svc.ScanPick(f.ctx, wh, ambTask.ID, "picker1", "s1", "P-01", "FRZ", 1); !errors.As(err, &se) || se.Code != domain.ScanWrongItem {
		t.Fatalf("wrong item: %v", err)
	}
	if oh, occ := f.inv("P-01", "AMB"); oh != 5 || occ != 5 {
		t.Fatalf("refused scans moved stock: %d/%d", oh, occ)
	}
	for i := 0; i < 2; i++ { // the second is a retry of the same scan
		if r, err := f.svc.ScanPick(f.ctx, wh, ambTask.ID, "picker1", "s1", "P-01", "AMB", 3); err != nil || r.Duplicate != (i == 1) {
			t.Fatalf("scan %d: %+v %v", i, r, err)
		}
	}
	if oh, occ := f.inv("P-01", "AMB"); oh != 2 || occ != 2 {
		t.Fatalf("after picking 3: %d/%d", oh, occ)
	}
	if _, err := f.svc.ScanPick(f.ctx, wh, ambTask.ID, "picker1", "s1", "P-01", "AMB", 2); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused: %v", err)
	}
	for i, s := range []struct {
		bin string
		qty int64
	}{{"P-01", 2}, {"R-01", 2}} {
		if _, err := f.svc.ScanPick(f.ctx, wh, ambTask.ID, "picker1", fmt.Sprint("s", i+2), s.bin, "AMB", s.qty); err != nil {
			t.Fatal(err)
		}
	}
	frzTask := pl.Tasks[1]
	f.must(f.svc.ClaimTask(f.ctx, wh, frzTask.ID, "picker2"))
	r, err := f.svc.ScanPick(f.ctx, wh, frzTask.ID, "picker2", "f1", "F-01", "FRZ", 1)
	if err != nil || !r.ListPicked || r.Task.Status != domain.TaskDone {
		t.Fatalf("last scan: %+v %v", r, err)
	}
	f.outbox(events.TopicPickListPicked, pl.ID)
	if n := f.count(`SELECT COUNT(*) FROM inv_tran WHERE kind='PICK'`); n != 4 {
		t.Fatalf("%d pick movements", n)
	}
	if oh, occ := f.inv("R-01", "AMB"); oh != 8 || occ != 0 {
		t.Fatalf("reserve after picking %d/%d", oh, occ)
	}
	if n := f.count(`SELECT on_hand FROM erp_stock WHERE warehouse=? AND sku='AMB'`, wh); n != 8 {
		t.Fatalf("ERP on hand %d after receiving 15 and picking 7", n)
	}

	// QC and packing.
	if _, err := f.svc.Pack(f.ctx, wh, wos[0].ID, "k1", []app.PackInput{{Lines: []domain.Line{{SKU: "AMB", Qty: 7}}, WeightG: 3650}}); !errors.Is(err, domain.ErrState) {
		t.Fatalf("pack before QC: %v", err)
	}
	for i, q := range []struct {
		sku string
		qty int64
	}{{"AMB", 4}, {"AMB", 3}, {"FRZ", 1}} {
		res, err := f.svc.QCScan(f.ctx, wh, pl.ID, fmt.Sprint("q", i), q.sku, q.qty)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[string]int{"AMB": 1, "FRZ": 2}[q.sku]; res.Slot != want {
			t.Fatalf("%s to slot %d, want %d", q.sku, res.Slot, want)
		}
	}
	if _, err := f.svc.QCScan(f.ctx, wh, pl.ID, "q9", "AMB", 1); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("more than picked: %v", err)
	}
	var we *domain.WeightError
	// SF requires weights: 7 × 500 g + the carton 150 g = 3650 g ± 182 g.
	if _, err := f.svc.Pack(f.ctx, wh, wos[0].ID, "k1", []app.PackInput{{Lines: []domain.Line{{SKU: "AMB", Qty: 7}}, WeightG: 4000}}); !errors.As(err, &we) {
		t.Fatalf("overweight: %v", err)
	}
	boxes, err := f.svc.Pack(f.ctx, wh, wos[0].ID, "k1", []app.PackInput{{Lines: []domain.Line{{SKU: "AMB", Qty: 4}}, WeightG: 2200},
		{Lines: []domain.Line{{SKU: "AMB", Qty: 3}}, WeightG: 1600}})
	if err != nil || len(boxes) != 2 {
		t.Fatalf("pack: %+v %v", boxes, err)
	}
	if _, err := f.svc.Pack(f.ctx, wh, wos[0].ID, "k2", []app.PackInput{{Lines: []domain.Line{{SKU: "AMB", Qty: 7}}, WeightG: 3650}}); !errors.Is(err, domain.ErrState) {
		t.Fatalf("packed twice: %v", err)
	}
	f.must(f.svc.Pack(f.ctx, wh, wos[1].ID, "k3", []app.PackInput{{Lines: []domain.Line{{SKU: "FRZ", Qty: 1}}, WeightG: 640}}))

	// Handover and TMS.
	if _, err := f.svc.Handover(f.ctx, wh, "JD", "h0"); !errors.Is(err, domain.ErrState) {
		t.Fatalf("nothing for JD: %v", err)
	}
	h, err := f.svc.Handover(f.ctx, wh, "SF", "h1")
	if err != nil || len(h.Parcels) != 3 {
		t.Fatalf("handover %+v %v", h, err)
	}
	if again, err := f.svc.Handover(f.ctx, wh, "SF", "h1"); err != nil || again.ID != h.ID || len(again.Parcels) != 3 {
		t.Fatalf("handover again: %+v %v", again, err)
	}
	var payload []byte
	if err := f.db.QueryRow(`SELECT payload FROM outbox WHERE topic=?`, events.TopicHandoverCompleted).Scan(&payload); err != nil {
		t.Fatal(err)
	}
	var ev events.HandoverCompleted
	if err := json.Unmarshal(payload, &ev); err != nil || len(ev.Parcels) != 3 || ev.Parcels[0].OrderID != "O-D1" || ev.Parcels[0].WaybillNo != "WB-D1" {
		t.Fatalf("handover event %+v %v", ev, err)
	}
	if err := f.svc.ImportHandover(f.ctx, ev); err != nil || f.tms.imports[h.ID] != 1 {
		t.Fatalf("import: %v", err)
	}
	if o, _ := f.svc.Order(f.ctx, wmsID); o.Status != "HANDED_OVER" {
		t.Fatalf("order %s", o.Status)
	}
	// The console lists the batch, imported, and reads it with its parcels;
	// another warehouse may not.
	if hs, err := f.svc.HandoverBatches(f.ctx, wh, "SF", 10); err != nil || len(hs) != 1 || hs[0].ID != h.ID || hs[0].ParcelCount != 3 ||
		hs[0].ImportedAt.IsZero() {
		t.Fatalf("handover batches: %+v %v", hs, err)
	}
	if hb, err := f.svc.HandoverBatch(f.ctx, wh, h.ID); err != nil || len(hb.Parcels) != 3 || hb.Carrier != "SF" {
		t.Fatalf("handover batch: %+v %v", hb, err)
	}
	if _, err := f.svc.HandoverBatch(f.ctx, "WH-BJ", h.ID); !errors.Is(err, domain.ErrWrongWarehouse) {
		t.Fatalf("another warehouse's batch: %v", err)
	}

	// A report TMS does not confirm records nothing.
	p0 := h.Parcels[0].ParcelID
	if _, _, err := f.svc.TrackParcel(f.ctx, p0); !errors.Is(err, domain.ErrState) {
		t.Fatalf("unconfirmed report: %v", err)
	}
	for _, p := range h.Parcels {
		f.tms.states[p.ParcelID] = domain.ParcelCollected
	}
	ps, open, _ := f.svc.OrderParcels(f.ctx, "O-D1")
	if len(ps) != 3 || open != 0 {
		t.Fatalf("parcels %d, open %d", len(ps), open)
	}
	for i, p := range h.Parcels {
		got, changed, err := f.svc.TrackParcel(f.ctx, p.ParcelID)
		if err != nil || !changed || got.Tracking != domain.ParcelCollected {
			t.Fatalf("track %d: %+v %v", i, got, err)
		}
	}
	if _, changed, _ := f.svc.TrackParcel(f.ctx, p0); changed {
		t.Fatal("a repeated report changed the parcel")
	}
	if n := f.count(`SELECT COUNT(*) FROM outbox WHERE topic=?`, events.TopicParcelTracked); n != 3 {
		t.Fatalf("%d tracked events", n)
	}

	// Refusals at the door: the courier's lines are checked against the
	// box (a SKU it does not hold, or more than it holds, records
	// nothing); a refusal without lines takes back the whole box.
	if len(ev.Parcels[0].Lines) == 0 {
		t.Fatalf("the import carries no manifest: %+v", ev.Parcels[0])
	}
	box := ev.Parcels[0].Lines[0]
	f.tms.states[p0] = domain.ParcelRefused
	for _, bad := range [][]domain.ParcelLine{{{SKU: "NOT-IN-BOX", Qty: 1}}, {{SKU: box.SKU, Qty: box.Qty + 1}}} {
		f.tms.refused[p0] = bad
		if _, _, err := f.svc.TrackParcel(f.ctx, p0); !errors.Is(err, domain.ErrValidation) {
			t.Fatalf("refusal of %+v: %v", bad, err)
		}
	}
	if n := f.count(`SELECT COUNT(*) FROM box_refusals`); n != 0 {
		t.Fatalf("%d refused lines recorded from bad reports", n)
	}
	f.tms.refused[p0] = []domain.ParcelLine{{SKU: box.SKU, Qty: 1}}
	if got, changed, err := f.svc.TrackParcel(f.ctx, p0); err != nil || !changed || len(got.Refused) != 1 || got.Refused[0] != f.tms.refused[p0][0] {
		t.Fatalf("partial refusal: %+v %v", got, err)
	}
	p1 := h.Parcels[1].ParcelID
	f.tms.states[p1] = domain.ParcelRefused
	if _, _, err := f.svc.TrackParcel(f.ctx, p1); err != nil {
		t.Fatal(err)
	}
	ps, _, _ = f.svc.OrderParcels(f.ctx, "O-D1")
	for _, p := range ps {
		switch p.ParcelID {
		case p0:
			if len(p.Refused) != 1 || p.Refused[0] != (domain.ParcelLine{SKU: box.SKU, Qty: 1}) {
				t.Fatalf("parcel %s refused %+v", p0, p.Refused)
			}
		case p1:
			if len(p.Refused) == 0 || !reflect.DeepEqual(p.Refused, p.Contents) {
				t.Fatalf("parcel %s refused whole: %+v of %+v", p1, p.Refused, p.Contents)
			}
		default:
			if len(p.Refused) != 0 {
				t.Fatalf("parcel %s not refused, has %+v", p.ParcelID, p.Refused)
			}
		}
	}
}

// Two work orders race for the last units of a bin: exactly one gets
// them, the other waits, and the bin is never over-occupied.
func TestAllocationRaceForTheLastUnits(t *testing.T) {
	f := newFloor(t)
	f.receive("C-01", "MILK", "B1", "2026-03-01", 4)
	const n = 8
	var ids []string
	for i := range n {
		wos := f.order(fmt.Sprint("R", i), "SF", domain.Line{SKU: "MILK", Qty: 3, Zone: "CHILLED_LOW"})
		ids = append(ids, wos[0].ID)
	}
	var wg sync.WaitGroup
	var won atomic.Int32
	for _, id := range ids {
		wg.Go(func() {
			w, err := f.svc.AllocateWorkOrder(f.ctx, id)
			if err != nil {
				t.Error(err)
				return
			}
			if w.Status == domain.WOAllocated {
				won.Add(1)
			}
		})
	}
	wg.Wait()
	if won.Load() != 1 {
		t.Fatalf("%d allocations won 3 of 4 units", won.Load())
	}
	if oh, occ := f.inv("C-01", "MILK"); oh != 4 || occ != 3 {
		t.Fatalf("bin %d on hand, %d occupied", oh, occ)
	}
	if w := f.count(`SELECT COUNT(*) FROM sales_order WHERE status=?`, domain.WOWaitingStock); w != n-1 {
		t.Fatalf("%d waiting", w)
	}
}

// Two pickers claim one task at once: one holds it; and one scan sent
// many times at once deducts once.
func TestClaimAndScanRaces(t *testing.T) {
	f := newFloor(t)
	f.receive("C-01", "MILK", "B1", "2026-03-01", 10)
	wos := f.order("D1", "SF", domain.Line{SKU: "MILK", Qty: 5, Zone: "CHILLED_LOW"})
	f.must(f.svc.AllocateWorkOrder(f.ctx, wos[0].ID))
	pl, err := f.svc.CreatePickList(f.ctx, wh, "pl", "op", []string{wos[0].ID})
	if err != nil {
		t.Fatal(err)
	}
	task := pl.Tasks[0].ID
	var wg sync.WaitGroup
	var held, taken atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			_, err := f.svc.ClaimTask(f.ctx, wh, task, fmt.Sprint("picker", i))
			switch {
			case err == nil:
				held.Add(1)
			case errors.Is(err, domain.ErrTaskTaken):
				taken.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if held.Load() != 1 || taken.Load() != 7 {
		t.Fatalf("held %d, refused %d", held.Load(), taken.Load())
	}
	tk, _ := f.svc.Task(f.ctx, wh, task)
	for range 8 {
		wg.Go(func() {
			if _, err := f.svc.ScanPick(f.ctx, wh, task, tk.Picker, "same", "C-01", "MILK", 2); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if oh, occ := f.inv("C-01", "MILK"); oh != 8 || occ != 3 {
		t.Fatalf("bin %d on hand, %d occupied after one scan of 2 sent 8 times", oh, occ)
	}
	if n := f.count(`SELECT COUNT(*) FROM inv_tran WHERE kind='PICK'`); n != 1 {
		t.Fatalf("%d pick movements", n)
	}
}

func TestReceiptRefusals(t *testing.T) {
	f := newFloor(t)
	in := app.ReceiptInput{Warehouse: wh, IdempotencyKey: "k", PurchaseOrder: "PO-1", Bin: "F-01", SKU: "AMB", Batch: "B",
		ProductionDate: "2026-01-01", ExpiryDate: "2026-02-01", Qty: 1, Operator: "op"}
	if _, _, err := f.svc.ReceiveGoods(f.ctx, in); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("ambient item into a frozen bin: %v", err)
	}
	in.Bin = "X-99"
	if _, _, err := f.svc.ReceiveGoods(f.ctx, in); !errors.Is(err, domain.ErrNotFound) {
		t.Fatalf("unknown bin: %v", err)
	}
	in.Bin, in.ExpiryDate = "P-01", "2025-12-01"
	if _, _, err := f.svc.ReceiveGoods(f.ctx, in); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("expiry before production: %v", err)
	}
	in.ExpiryDate = "2026-02-01"
	if _, dup, err := f.svc.ReceiveGoods(f.ctx, in); err != nil || dup {
		t.Fatal(err)
	}
	if _, dup, err := f.svc.ReceiveGoods(f.ctx, in); err != nil || !dup {
		t.Fatalf("same key: %v %v", dup, err)
	}
	in.Qty = 2
	if _, _, err := f.svc.ReceiveGoods(f.ctx, in); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused: %v", err)
	}
	in.IdempotencyKey, in.ExpiryDate = "k2", "2026-03-01"
	if _, _, err := f.svc.ReceiveGoods(f.ctx, in); !errors.Is(err, domain.ErrConflict) {
		t.Fatalf("same batch, other dates: %v", err)
	}
	if oh, _ := f.inv("P-01", "AMB"); oh != 1 {
		t.Fatalf("on hand %d", oh)
	}
	if n := f.count(`SELECT COUNT(*) FROM inv_tran`); n != 1 {
		t.Fatalf("%d movements", n)
	}
}

// Receipts are checked against ERP's purchase order: an unknown one,
// another warehouse's, a SKU it does not order and a quantity above what
// is left of its line are refused with their own error and move nothing;
// receipts racing for a line's last units never take it above the order.
func TestReceiptsAgainstThePurchaseOrder(t *testing.T) {
	f := newFloor(t)
	f.erp.pos["PO-7"] = domain.PurchaseOrder{ID: "PO-7", Warehouse: wh, Supplier: "S1", Lines: map[string]int64{"AMB": 10}}
	f.erp.pos["PO-BJ"] = domain.PurchaseOrder{ID: "PO-BJ", Warehouse: "WH-BJ", Supplier: "S1", Lines: map[string]int64{"AMB": 10}}
	in := app.ReceiptInput{Warehouse: wh, IdempotencyKey: "k1", PurchaseOrder: "PO-404", Bin: "P-01", SKU: "AMB", Batch: "B",
		ProductionDate: "2026-01-01", ExpiryDate: "2026-02-01", Qty: 4, Operator: "op"}
	var over *domain.OverReceiptError
	for _, c := range []struct {
		po, sku string
		qty     int64
		want    error
	}{
		{"PO-404", "AMB", 4, domain.ErrUnknownPO},
		{"PO-BJ", "AMB", 4, domain.ErrPOElsewhere},
		{"PO-7", "MILK", 4, domain.ErrNotOnPO},
		{"PO-7", "AMB", 11, domain.ErrOverReceipt},
	} {
		in.PurchaseOrder, in.SKU, in.Qty = c.po, c.sku, c.qty
		if c.sku == "MILK" {
			in.Bin = "C-01"
		}
		if _, _, err := f.svc.ReceiveGoods(f.ctx, in); !errors.Is(err, c.want) {
			t.Fatalf("%s %s x%d: %v, want %v", c.po, c.sku, c.qty, err, c.want)
		}
		in.Bin = "P-01"
	}
	if n := f.count(`SELECT COUNT(*) FROM inv_tran`) + f.count(`SELECT COUNT(*) FROM stock_receipts`) + f.count(`SELECT COUNT(*) FROM outbox`); n != 0 {
		t.Fatalf("refused receipts wrote %d rows", n)
	}
	in.PurchaseOrder, in.SKU, in.Qty = "PO-7", "AMB", 7
	if _, _, err := f.svc.ReceiveGoods(f.ctx, in); err != nil {
		t.Fatal(err)
	}
	in.IdempotencyKey, in.Qty = "k2", 4
	if _, _, err := f.svc.ReceiveGoods(f.ctx, in); !errors.As(err, &over) || over.Ordered != 10 || over.Received != 7 {
		t.Fatalf("4 more of 10 after 7: %v", err)
	}
	// Eight receipts of 1 race for the 3 units left: three are received.
	var wg sync.WaitGroup
	var ok, refused atomic.Int32
	for i := range 8 {
		wg.Go(func() {
			x := in
			x.IdempotencyKey, x.Qty = fmt.Sprint("race", i), 1
			_, _, err := f.svc.ReceiveGoods(f.ctx, x)
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, domain.ErrOverReceipt):
				refused.Add(1)
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if ok.Load() != 3 || refused.Load() != 5 {
		t.Fatalf("%d received, %d refused of 8 racing for 3", ok.Load(), refused.Load())
	}
	if oh, _ := f.inv("P-01", "AMB"); oh != 10 {
		t.Fatalf("bin holds %d of a purchase order of 10", oh)
	}
	po, err := f.svc.PurchaseOrder(f.ctx, wh, "PO-7")
	if err != nil || len(po.Lines) != 1 || po.Lines[0].Ordered != 10 || po.Lines[0].Received != 10 {
		t.Fatalf("purchase order as seen: %+v %v", po, err)
	}
	if _, err := f.svc.PurchaseOrder(f.ctx, wh, "PO-BJ"); !errors.Is(err, domain.ErrWrongWarehouse) {
		t.Fatalf("another warehouse's purchase order: %v", err)
	}
	if rs, err := f.svc.Receipts(f.ctx, wh, "PO-7", 50); err != nil || len(rs) != 4 {
		t.Fatalf("%d receipts of PO-7: %v", len(rs), err)
	}
	if n := f.count(`SELECT COUNT(*) FROM outbox WHERE topic=?`, events.TopicStockReceived); n != 4 {
		t.Fatalf("%d stock events for 4 receipts", n)
	}
}

// Goods received at the dock wait there, in no bin, allocating and
// selling nothing, until put away, part by part into bins; each put-away
// moves stock and announces it once, and no more than waits can be put
// away.
func TestReceiptAtTheDockThenPutAway(t *testing.T) {
	f := newFloor(t)
	in := app.ReceiptInput{Warehouse: wh, IdempotencyKey: "dock1", PurchaseOrder: "PO-1", SKU: "AMB", Batch: "B7",
		ProductionDate: "2026-01-01", ExpiryDate: "2026-09-01", Qty: 10, Operator: "op"}
	rc, _, err := f.svc.ReceiveGoods(f.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.count(`SELECT COUNT(*) FROM wms_inv`) + f.count(`SELECT COUNT(*) FROM inv_tran`) + f.count(`SELECT COUNT(*) FROM outbox WHERE topic=?`,
		events.TopicStockReceived); n != 0 {
		t.Fatalf("a receipt at the dock moved stock: %d rows", n)
	}
	if _, _, err := f.svc.PutAwayReceipt(f.ctx, wh, rc.ID, "pa0", "F-01", "op", 6); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("ambient into a frozen bin: %v", err)
	}
	if _, _, err := f.svc.PutAwayReceipt(f.ctx, "WH-BJ", rc.ID, "pa0", "P-01", "op", 6); !errors.Is(err, domain.ErrWrongWarehouse) {
		t.Fatalf("another warehouse's receipt: %v", err)
	}
	var wg sync.WaitGroup
	for range 4 { // the same put-away sent four times at once
		wg.Go(func() {
			if _, _, err := f.svc.PutAwayReceipt(f.ctx, wh, rc.ID, "pa1", "P-01", "op", 6); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if _, _, err := f.svc.PutAwayReceipt(f.ctx, wh, rc.ID, "pa1", "P-01", "op", 5); !errors.Is(err, domain.ErrKeyReused) {
		t.Fatalf("key reused: %v", err)
	}
	if _, _, err := f.svc.PutAwayReceipt(f.ctx, wh, rc.ID, "pa2", "P-02", "op", 5); !errors.Is(err, domain.ErrState) {
		t.Fatalf("5 of the 4 left at the dock: %v", err)
	}
	r, dup, err := f.svc.PutAwayReceipt(f.ctx, wh, rc.ID, "pa3", "P-02", "op", 4)
	if err != nil || dup || r.PutAway != 10 || r.AtDock() != 0 {
		t.Fatalf("last put-away: %+v %v %v", r, dup, err)
	}
	if a, _ := f.inv("P-01", "AMB"); a != 6 {
		t.Fatalf("P-01 holds %d", a)
	}
	if b, _ := f.inv("P-02", "AMB"); b != 4 {
		t.Fatalf("P-02 holds %d", b)
	}
	if n := f.count(`SELECT COUNT(*) FROM outbox WHERE topic=?`, events.TopicStockReceived); n != 2 {
		t.Fatalf("%d stock events for 2 put-aways", n)
	}
	if n := f.count(`SELECT SUM(qty) FROM inv_tran WHERE kind='RECEIPT'`); n != 10 {
		t.Fatalf("%d received by movements", n)
	}
	if rs, err := f.svc.Receipts(f.ctx, wh, "PO-1", 10); err != nil || len(rs) != 1 || rs[0].PutAway != 10 || rs[0].Bin != "" ||
		rs[0].Expiry.Format(time.DateOnly) != "2026-09-01" {
		t.Fatalf("receipts: %+v %v", rs, err)
	}
}

// Every movement reaches ERP once: an upload that fails marks nothing
// and the next sends it; an uploaded movement is not sent again.
func TestMovementsUploadToERPOnce(t *testing.T) {
	f := newFloor(t)
	f.receive("C-01", "MILK", "B1", "2026-03-01", 10)
	f.receive("P-01", "AMB", "B1", "2026-03-01", 10)
	f.erp.fail = true
	if n, err := f.svc.UploadMovements(f.ctx); err == nil || n != 0 {
		t.Fatalf("failed upload: %d %v", n, err)
	}
	if n := f.count(`SELECT COUNT(*) FROM inv_tran WHERE uploaded_at IS NULL`); n != 2 {
		t.Fatalf("%d pending after a failed upload", n)
	}
	if n, err := f.svc.UploadMovements(f.ctx); err != nil || n != 2 {
		t.Fatalf("upload: %d %v", n, err)
	}
	f.receive("C-01", "MILK", "B2", "2026-04-01", 5)
	if n, err := f.svc.UploadMovements(f.ctx); err != nil || n != 1 {
		t.Fatalf("next upload: %d %v", n, err)
	}
	if n, _ := f.svc.UploadMovements(f.ctx); n != 0 {
		t.Fatalf("%d uploaded again", n)
	}
	if len(f.erp.booked) != 3 {
		t.Fatalf("ERP booked %d movements", len(f.erp.booked))
	}
	for id, n := range f.erp.booked {
		if n != 1 {
			t.Fatalf("movement %s sent %d times", id, n)
		}
	}
}

// One bin's stock under everything at once: allocations racing for its
// last units, receipts into it (each releasing the waiting work orders)
// and pickers scanning what was allocated. Whatever the interleaving, the
// bin is never negative nor occupied above its on-hand (the conditional
// UPDATEs, with the CHECK as the last guard), its on-hand is the sum of
// its movements, its occupied stock is what the allocations still hold,
// and every work order ends allocated or waiting, none lost in between.
func TestBinStockUnderAllocationReceiptAndPickRaces(t *testing.T) {
	f := newFloor(t)
	f.receive("C-01", "MILK", "B1", "2026-03-01", 12)
	const n = 16
	var wos []string
	for i := range n {
		w := f.order(fmt.Sprint("M", i), "SF", domain.Line{SKU: "MILK", Qty: 3, Zone: "CHILLED_LOW"})
		wos = append(wos, w[0].ID)
	}
	var wg sync.WaitGroup
	for _, id := range wos {
		wg.Go(func() {
			if _, err := f.svc.AllocateWorkOrder(f.ctx, id); err != nil {
				t.Error(err)
			}
		})
	}
	for range 4 { // 4 receipts of 6 while allocations run, each releasing waiters
		wg.Go(func() {
			if _, _, err := f.svc.ReceiveGoods(f.ctx, app.ReceiptInput{Warehouse: wh, IdempotencyKey: fmt.Sprint("r", keys.Add(1)), PurchaseOrder: "PO-1",
				Bin: "C-01", SKU: "MILK", Batch: "B1", ProductionDate: "2026-01-01", ExpiryDate: "2026-03-01", Qty: 6, Operator: "op1"}); err != nil {
				t.Error(err)
			}
			if _, err := f.svc.ReleaseWaiting(f.ctx, wh, "MILK"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	// Pick what was allocated, carts of 4 at once, while the last waiters
	// are released again.
	allocated := func() []string {
		var out []string
		rows, err := f.db.Query(`SELECT work_order_id FROM sales_order WHERE status=? ORDER BY work_order_id`, domain.WOAllocated)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var id string
			_ = rows.Scan(&id)
			out = append(out, id)
		}
		return out
	}
	ready := allocated()
	for c := 0; c < len(ready); c += 4 {
		cart := ready[c:min(c+4, len(ready))]
		wg.Go(func() {
			pl, err := f.svc.CreatePickList(f.ctx, wh, "pl-"+cart[0], "op", cart)
			if err != nil {
				t.Error(err)
				return
			}
			for _, task := range pl.Tasks {
				picker := "p-" + task.ID
				if _, err := f.svc.ClaimTask(f.ctx, wh, task.ID, picker); err != nil {
					t.Error(err)
					return
				}
				for {
					tk, err := f.svc.Task(f.ctx, wh, task.ID)
					if err != nil {
						t.Error(err)
						return
					}
					st, ok := tk.Next()
					if !ok {
						break
					}
					if _, err := f.svc.ScanPick(f.ctx, wh, task.ID, picker, fmt.Sprint("s", st.StepNo), st.Bin, st.SKU, st.Qty-st.Picked); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	wg.Go(func() {
		if _, err := f.svc.ReleaseWaiting(f.ctx, wh, "MILK"); err != nil {
			t.Error(err)
		}
	})
	wg.Wait()

	var onHand, occupied, logged, open int64
	if err := f.db.QueryRow(`SELECT SUM(on_hand), SUM(occupied), MIN(on_hand - occupied) >= 0 AND MIN(occupied) >= 0 FROM wms_inv`).
		Scan(&onHand, &occupied, new(bool)); err != nil {
		t.Fatal(err)
	}
	if err := f.db.QueryRow(`SELECT SUM(qty) FROM inv_tran`).Scan(&logged); err != nil {
		t.Fatal(err)
	}
	if err := f.db.QueryRow(`SELECT COALESCE(SUM(qty - picked_qty), 0) FROM work_order_picks`).Scan(&open); err != nil {
		t.Fatal(err)
	}
	picked := f.count(`SELECT -COALESCE(SUM(qty), 0) FROM inv_tran WHERE kind='PICK'`)
	if onHand != 36-picked || logged != onHand || occupied != open || occupied > onHand || occupied < 0 {
		t.Fatalf("bin: on hand %d (36 received, %d picked), movements %d, occupied %d, allocations open %d", onHand, picked, logged, occupied, open)
	}
	// 36 units are 12 work orders of 3: every one allocated, picked or
	// waiting; none stuck allocating.
	if n := f.count(`SELECT COUNT(*) FROM sales_order WHERE status=?`, domain.WOAllocating); n != 0 {
		t.Fatalf("%d work orders still allocating", n)
	}
	if got := f.count(`SELECT COUNT(*) FROM sales_order WHERE status IN (?,?,?)`, domain.WOAllocated, domain.WOPicking, domain.WOPicked); got != 12 {
		t.Fatalf("%d work orders hold stock, want 12 of 36 units", got)
	}
	if w := f.count(`SELECT COUNT(*) FROM sales_order WHERE status=?`, domain.WOWaitingStock); w != n-12 {
		t.Fatalf("%d waiting, want %d", w, n-12)
	}
}

// Interception holds until picking: an order split into an allocated and
// a waiting work order is stopped, the allocated one's bin stock given
// back, and neither can go on a pick list; an order whose work order is
// on a pick list is too late, and nothing of it changes.
func TestInterceptAfterSplitUntilPicking(t *testing.T) {
	f := newFloor(t)
	f.receive("P-01", "AMB", "B1", "2026-09-01", 10)
	wos := f.order("D1", "SF", domain.Line{SKU: "AMB", Name: "rice", Qty: 3, Zone: "AMBIENT"}, domain.Line{SKU: "FRZ", Qty: 1, Zone: "FROZEN_LOW"})
	if w, err := f.svc.AllocateWorkOrder(f.ctx, wos[0].ID); err != nil || w.Status != domain.WOAllocated {
		t.Fatalf("allocate: %+v %v", w, err)
	}
	if w, err := f.svc.AllocateWorkOrder(f.ctx, wos[1].ID); err != nil || w.Status != domain.WOWaitingStock {
		t.Fatalf("allocate frozen: %+v %v", w, err)
	}
	if _, occ := f.inv("P-01", "AMB"); occ != 3 {
		t.Fatalf("occupied %d before the interception", occ)
	}
	for range 2 { // a repeat answers the same
		if x, err := f.svc.Intercept(f.ctx, "D1", "customer cancel"); err != nil || x.Tombstone {
			t.Fatalf("intercept after the split: %+v %v", x, err)
		}
	}
	if _, occ := f.inv("P-01", "AMB"); occ != 0 {
		t.Fatalf("occupied %d after the interception, want 0", occ)
	}
	// Its allocation is undone too, or it would still count as holding
	// stock (the reconciliation's OCCUPIED check).
	for _, w := range wos {
		if n := f.count(`SELECT COUNT(*) FROM work_order_picks WHERE work_order_id='` + w.ID + `'`); n != 0 {
			t.Fatalf("intercepted work order %s keeps %d allocation rows", w.ID, n)
		}
	}
	for _, w := range wos {
		if got, _, _ := f.svc.WorkOrder(f.ctx, wh, w.ID); got.Status != domain.WOIntercepted {
			t.Fatalf("work order %s is %s", w.ID, got.Status)
		}
	}
	if _, err := f.svc.CreatePickList(f.ctx, wh, "pl1", "op1", []string{wos[0].ID}); !errors.Is(err, domain.ErrState) {
		t.Fatalf("pick list of an intercepted work order: %v", err)
	}
	// Receipt of the frozen SKU does not revive the intercepted one.
	f.receive("F-01", "FRZ", "B1", "2026-03-01", 3)
	if _, err := f.svc.ReleaseWaiting(f.ctx, wh, "FRZ"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := f.svc.WorkOrder(f.ctx, wh, wos[1].ID); got.Status != domain.WOIntercepted {
		t.Fatalf("frozen work order after the receipt: %s", got.Status)
	}

	// On a pick list: too late, nothing changes.
	w2 := f.order("D2", "SF", domain.Line{SKU: "AMB", Name: "rice", Qty: 2, Zone: "AMBIENT"})
	if _, err := f.svc.AllocateWorkOrder(f.ctx, w2[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreatePickList(f.ctx, wh, "pl2", "op1", []string{w2[0].ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.Intercept(f.ctx, "D2", "customer cancel"); !errors.Is(err, domain.ErrTooLateToIntercept) {
		t.Fatalf("intercept on a pick list: %v", err)
	}
	if got, _, _ := f.svc.WorkOrder(f.ctx, wh, w2[0].ID); got.Status != domain.WOPicking {
		t.Fatalf("picking work order after a refused interception: %s", got.Status)
	}
	if _, occ := f.inv("P-01", "AMB"); occ != 2 {
		t.Fatalf("occupied %d, want D2's 2", occ)
	}
	if n := f.count(`SELECT COUNT(*) FROM order_interceptions WHERE delivery_order_id='D2'`); n != 0 {
		t.Fatal("a refused interception left its row")
	}
}
