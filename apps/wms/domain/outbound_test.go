package domain_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/harvest/harvest/apps/wms/domain"
)

func seqIDs() func() string {
	n := 0
	return func() string { n++; return fmt.Sprintf("ID%02d", n) }
}

func TestSplitByZoneAndOwnBox(t *testing.T) {
	t.Parallel()
	item := func(sku, zone, h string) domain.Item {
		it, err := domain.NewItem(sku, sku, zone, h, 100)
		if err != nil {
			t.Fatal(err)
		}
		return it
	}
	items := map[string]domain.Item{
		"VEG": item("VEG", "CHILLED_HIGH", "VEGETABLE"), "BAG": item("BAG", "CHILLED_HIGH", "BAGGED"),
		"CASE": item("CASE", "AMBIENT", "OWN_BOX"),
	}
	o := domain.Order{WMSOrderID: "W1", Warehouse: "WH-SH", Delivery: domain.Delivery{Carrier: "SF"}, Lines: []domain.Line{
		{SKU: "FZ", Qty: 1, Zone: "FROZEN_LOW"}, {SKU: "AM", Qty: 2, Zone: "AMBIENT"}, {SKU: "VEG", Qty: 1, Zone: "AMBIENT"},
		{SKU: "BAG", Qty: 3, Zone: "CHILLED_HIGH"}, {SKU: "CASE", Qty: 2, Zone: "AMBIENT"}, {SKU: "AM2", Qty: 1, Zone: "AMBIENT"},
	}}
	wos, err := domain.Split(o, items, seqIDs())
	if err != nil {
		t.Fatal(err)
	}
	type got struct {
		z    domain.TempZone
		h    domain.Handling
		skus string
	}
	want := []got{{"AMBIENT", "STANDARD", "AM,AM2"}, {"CHILLED_HIGH", "VEGETABLE", "VEG"}, {"CHILLED_HIGH", "BAGGED", "BAG"},
		{"FROZEN_LOW", "STANDARD", "FZ"}, {"AMBIENT", "OWN_BOX", "CASE"}}
	if len(wos) != len(want) {
		t.Fatalf("%d work orders, want %d: %+v", len(wos), len(want), wos)
	}
	for i, w := range wos {
		skus := ""
		for j, l := range w.Lines {
			if j > 0 {
				skus += ","
			}
			skus += l.SKU
			if l.LineNo != j+1 {
				t.Errorf("work order %d line %d numbered %d", i, j, l.LineNo)
			}
		}
		if g := (got{w.Zone, w.Handling, skus}); g != want[i] {
			t.Errorf("work order %d = %+v, want %+v", i, g, want[i])
		}
		if w.Seq != i+1 || w.Status != domain.WOAllocating || w.Carrier != "SF" || w.WMSOrderID != "W1" {
			t.Errorf("work order %d header %+v", i, w)
		}
	}
	o.Lines = append(o.Lines, domain.Line{SKU: "X", Qty: 1, Zone: "WARM"})
	if _, err := domain.Split(o, items, seqIDs()); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("unknown zone: %v", err)
	}
}

func TestAllocatePickAreaThenReserveFirstExpiring(t *testing.T) {
	t.Parallel()
	day := func(d int) time.Time { return time.Date(2026, 1, d, 0, 0, 0, 0, time.UTC) }
	cands := []domain.BinStock{
		{InvID: 1, Bin: "R-01", Area: domain.ReserveArea, SKU: "A", Batch: "B1", Expiry: day(1), OnHand: 100},
		{InvID: 2, Bin: "P-02", Area: domain.PickArea, SKU: "A", Batch: "B3", Expiry: day(9), OnHand: 5},
		{InvID: 3, Bin: "P-01", Area: domain.PickArea, SKU: "A", Batch: "B2", Expiry: day(5), OnHand: 4, Occupied: 1},
		{InvID: 4, Bin: "P-03", Area: domain.PickArea, SKU: "B", Batch: "B1", Expiry: day(5), OnHand: 1},
	}
	w := domain.WorkOrder{ID: "W", Lines: []domain.WorkLine{{SKU: "A", Qty: 10}}}
	picks, short := domain.Allocate(w, cands)
	if short != nil {
		t.Fatal(short)
	}
	want := []domain.Pick{{PickNo: 1, InvID: 3, Bin: "P-01", SKU: "A", Batch: "B2", Qty: 3}, {PickNo: 2, InvID: 2, Bin: "P-02", SKU: "A", Batch: "B3", Qty: 5},
		{PickNo: 3, InvID: 1, Bin: "R-01", SKU: "A", Batch: "B1", Qty: 2}}
	if fmt.Sprint(picks) != fmt.Sprint(want) {
		t.Fatalf("picks %+v, want %+v", picks, want)
	}
	w.Lines = append(w.Lines, domain.WorkLine{SKU: "B", Qty: 2}, domain.WorkLine{SKU: "C", Qty: 1})
	picks, short = domain.Allocate(w, cands)
	if picks != nil || fmt.Sprint(short) != fmt.Sprint([]domain.Shortage{{SKU: "B", Need: 2, Free: 1}, {SKU: "C", Need: 1}}) {
		t.Fatalf("picks %v short %v", picks, short)
	}
	if r := domain.ShortReason(short); r != "stock short: B needs 2, 1 free in pick and reserve areas; C needs 1, 0 free in pick and reserve areas" {
		t.Fatal(r)
	}
}

func TestScanRefusesPrecisely(t *testing.T) {
	t.Parallel()
	task := domain.Task{Steps: []domain.Step{{StepNo: 1, Bin: "P-01", SKU: "A", Qty: 2, Picked: 2}, {StepNo: 2, Bin: "P-02", SKU: "B", Qty: 3, Picked: 1}}}
	cases := []struct {
		bin, sku string
		qty      int64
		code     string
	}{
		{"P-01", "A", 1, domain.ScanWrongBin},
		{"P-02", "A", 1, domain.ScanWrongItem},
		{"P-02", "B", 3, domain.ScanTooMany},
		{"P-02", "B", 2, ""},
	}
	for _, c := range cases {
		s, err := task.Scan(c.bin, c.sku, c.qty)
		var se *domain.ScanError
		switch {
		case c.code == "" && (err != nil || s.StepNo != 2):
			t.Errorf("%+v: step %d err %v", c, s.StepNo, err)
		case c.code != "" && (!errors.As(err, &se) || se.Code != c.code):
			t.Errorf("%+v: err %v, want %s", c, err, c.code)
		}
	}
	if _, err := task.Scan("P-02", "B", 0); !errors.Is(err, domain.ErrValidation) {
		t.Errorf("zero qty: %v", err)
	}
	task.Steps[1].Picked = 3
	var se *domain.ScanError
	if _, err := task.Scan("P-02", "B", 1); !errors.As(err, &se) || se.Code != domain.ScanTaskDone {
		t.Errorf("done task: %v", err)
	}
}

func TestPlanPickList(t *testing.T) {
	t.Parallel()
	wo := func(id, carrier string, z domain.TempZone, st domain.WorkOrderStatus) domain.WorkOrder {
		return domain.WorkOrder{ID: id, Warehouse: "WH", Carrier: carrier, Zone: z, Status: st}
	}
	picks := map[string][]domain.Pick{
		"A": {{PickNo: 1, Bin: "P-09", SKU: "X", Qty: 1}, {PickNo: 2, Bin: "P-01", SKU: "Y", Qty: 1}},
		"B": {{PickNo: 1, Bin: "P-01", SKU: "Y", Qty: 2}},
		"C": {{PickNo: 1, Bin: "F-01", SKU: "Z", Qty: 1}},
	}
	pl, err := domain.PlanPickList("WH", []domain.WorkOrder{wo("A", "SF", domain.Ambient, domain.WOAllocated),
		wo("B", "SF", domain.Ambient, domain.WOAllocated), wo("C", "SF", domain.FrozenLow, domain.WOAllocated)}, picks, seqIDs())
	if err != nil {
		t.Fatal(err)
	}
	if len(pl.Tasks) != 2 || pl.Tasks[0].Zone != domain.Ambient || pl.Tasks[1].Zone != domain.FrozenLow {
		t.Fatalf("tasks %+v", pl.Tasks)
	}
	got := ""
	for _, s := range pl.Tasks[0].Steps {
		got += fmt.Sprintf("%d:%s/%s/slot%d ", s.StepNo, s.Bin, s.WorkOrderID, s.Slot)
	}
	if got != "1:P-01/A/slot1 2:P-01/B/slot2 3:P-09/A/slot1 " {
		t.Fatal(got)
	}
	bad := []struct {
		name string
		wos  []domain.WorkOrder
		want error
	}{
		{"two couriers", []domain.WorkOrder{wo("A", "SF", domain.Ambient, domain.WOAllocated), wo("B", "JD", domain.Ambient, domain.WOAllocated)}, domain.ErrValidation},
		{"not allocated", []domain.WorkOrder{wo("A", "SF", domain.Ambient, domain.WOWaitingStock)}, domain.ErrState},
		{"twice", []domain.WorkOrder{wo("A", "SF", domain.Ambient, domain.WOAllocated), wo("A", "SF", domain.Ambient, domain.WOAllocated)}, domain.ErrValidation},
		{"none", nil, domain.ErrValidation},
		{"other warehouse", []domain.WorkOrder{{ID: "A", Warehouse: "WH2", Status: domain.WOAllocated}}, domain.ErrWrongWarehouse},
	}
	for _, b := range bad {
		if _, err := domain.PlanPickList("WH", b.wos, picks, seqIDs()); !errors.Is(err, b.want) {
			t.Errorf("%s: %v", b.name, err)
		}
	}
	many := make([]domain.WorkOrder, domain.MaxCart+1)
	for i := range many {
		many[i] = wo(fmt.Sprint(i), "SF", domain.Ambient, domain.WOAllocated)
	}
	if _, err := domain.PlanPickList("WH", many, picks, seqIDs()); !errors.Is(err, domain.ErrValidation) {
		t.Errorf("21 work orders: %v", err)
	}
}

func TestPlanBoxesAndWeights(t *testing.T) {
	t.Parallel()
	w := domain.WorkOrder{ID: "W", Status: domain.WOPicked, Lines: []domain.WorkLine{{LineNo: 1, SKU: "A", Qty: 2, Picked: 2, QCed: 2},
		{LineNo: 2, SKU: "B", Qty: 1, Picked: 1, QCed: 1}}}
	weights := map[string]int64{"A": 500, "B": 1000}
	boxes := [][]domain.Line{{{SKU: "A", Qty: 1}, {SKU: "B", Qty: 1}}, {{SKU: "A", Qty: 1}}}
	bs, err := domain.PlanBoxes(w, boxes, []int64{1700, 640}, weights, true, seqIDs())
	if err != nil {
		t.Fatal(err)
	}
	if bs[0].ExpectedG != 1650 || bs[1].ExpectedG != 650 || bs[1].BoxNo != 2 {
		t.Fatalf("%+v", bs)
	}
	var we *domain.WeightError
	if _, err := domain.PlanBoxes(w, boxes, []int64{1800, 650}, weights, true, seqIDs()); !errors.As(err, &we) || we.BoxNo != 1 || we.AllowedG != 82 {
		t.Fatalf("heavy box: %v", err)
	}
	if _, err := domain.PlanBoxes(w, boxes, nil, weights, true, seqIDs()); !errors.As(err, &we) || we.GotG != 0 {
		t.Fatalf("unweighed: %v", err)
	}
	if _, err := domain.PlanBoxes(w, boxes, nil, weights, false, seqIDs()); err != nil {
		t.Fatalf("courier without weighing: %v", err)
	}
	if _, err := domain.PlanBoxes(w, boxes[:1], nil, weights, false, seqIDs()); !errors.Is(err, domain.ErrValidation) {
		t.Fatalf("a unit left out: %v", err)
	}
	w.Lines[0].QCed = 1
	if _, err := domain.PlanBoxes(w, boxes, nil, weights, false, seqIDs()); !errors.Is(err, domain.ErrState) {
		t.Fatalf("QC incomplete: %v", err)
	}
}

// The factory: each business type has its chain of named steps; a type
// without one is refused.
func TestChainForEachBusinessType(t *testing.T) {
	t.Parallel()
	want := map[domain.BusinessType]string{
		domain.BusinessStandard: "virtual-quantity outbound QC > commit everything in one transaction",
		domain.StoreLoss:        "actual-quantity outbound QC > create damage/loss record > commit everything in one transaction > notify customer service (concurrently)",
		domain.StoreLossPutAway: "actual-quantity outbound QC > create damage/loss record with stock transactions > create RF put-away task with batch by rule > commit everything in one transaction > notify customer service (concurrently)",
		domain.StorePutAway:     "actual-quantity outbound QC > create RF put-away task with random batch > commit everything in one transaction > notify customer service (concurrently)",
	}
	if got := domain.BusinessTypes(); len(got) != len(want) {
		t.Fatalf("business types %v", got)
	}
	for bt, names := range want {
		chain, err := domain.ChainFor(bt)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range chain {
			got = append(got, s.Name)
		}
		if g := strings.Join(got, " > "); g != names {
			t.Errorf("%s: %s", bt, g)
		}
	}
	if _, err := domain.ParseBusinessType("WHOLESALE"); !errors.Is(err, domain.ErrValidation) {
		t.Errorf("unknown type: %v", err)
	}
	// A failing step stops the chain before its commit.
	committed := false
	c := &domain.ShortageCase{WorkOrder: domain.WorkOrder{ID: "W", Lines: []domain.WorkLine{{SKU: "A", Qty: 2, Picked: 2, QCed: 1}}},
		Commit: func(domain.ShortageOutcome) error { committed = true; return nil }}
	if ran, err := domain.RunChain(domain.BusinessStandard, c); !errors.Is(err, domain.ErrState) || len(ran) != 0 || committed {
		t.Errorf("standard short: ran %v, err %v, committed %v", ran, err, committed)
	}
	c.Out = domain.ShortageOutcome{}
	c.MOQ = map[string]int64{"A": 2}
	if ran, err := domain.RunChain(domain.StorePutAway, c); err == nil || len(ran) != 1 || committed {
		t.Errorf("put-away without picks: ran %v, err %v", ran, err)
	}
}
