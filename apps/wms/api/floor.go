package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/wms/app"
	"github.com/harvest/harvest/apps/wms/domain"
	"github.com/harvest/harvest/apps/wms/wmsclient"
)

// The warehouse floor's routes (DOMAIN 7.1, 7.3). The gateway names the
// warehouse in the path from the operator's token; every document of
// another warehouse is refused.

func mountFloor(r chi.Router, h *Handler) {
	r.Post("/v1/items", h.putItem)
	r.Post("/v1/store-customers", h.putStoreCustomer)
	r.Route("/v1/warehouses/{wh}", func(r chi.Router) {
		r.Post("/zones", h.putZone)
		r.Post("/bins", h.putBin)
		r.Post("/receipts", h.receiveGoods)
		r.Get("/receipts", h.receipts)
		r.Post("/receipts/{id}/put-aways", h.putAwayReceipt)
		r.Get("/purchase-orders/{id}", h.purchaseOrder)
		r.Get("/stock", h.binStock)
		r.Get("/movements", h.movements)
		r.Get("/work-orders", h.workOrders)
		r.Get("/work-orders/{id}", h.workOrder)
		r.Post("/work-orders/{id}/pack", h.pack)
		r.Get("/work-orders/{id}/boxes", h.boxes)
		r.Get("/orders/{id}/work-orders", h.orderWorkOrders)
		r.Post("/pick-lists", h.createPickList)
		r.Get("/pick-lists", h.pickLists)
		r.Get("/pick-lists/{id}", h.pickList)
		r.Get("/pick-lists/{id}/qc", h.qcView)
		r.Post("/pick-lists/{id}/qc-scans", h.qcScan)
		r.Get("/tasks/{id}", h.task)
		r.Post("/tasks/{id}/claim", h.claim)
		r.Post("/tasks/{id}/scans", h.scan)
		r.Post("/handovers", h.handover)
		r.Get("/handovers", h.handovers)
		r.Get("/handovers/{id}", h.handoverBatch)
		mountPartial(r, h)
	})
	r.Post("/v1/tms/parcels/{id}/reports", h.parcelReport)
	r.Get("/v1/order-parcels/{id}", h.orderParcels)
}

// floorProblem maps the floor's errors; the rest go to problem.
func floorProblem(err error) error {
	var se *domain.ScanError
	var we *domain.WeightError
	var oe *domain.OverReceiptError
	switch {
	case errors.As(err, &oe):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeOverReceipt, "%s", oe.Error()).
			With(map[string]any{"ordered": oe.Ordered, "received": oe.Received, "remaining": max(oe.Ordered-oe.Received, 0)})
	case errors.Is(err, domain.ErrUnknownPO):
		return httpapi.Errorf(http.StatusNotFound, wmsclient.CodeUnknownPO, "%s", err.Error())
	case errors.Is(err, domain.ErrPOElsewhere):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodePOElsewhere, "%s", err.Error())
	case errors.Is(err, domain.ErrNotOnPO):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeNotOnPO, "%s", err.Error())
	case errors.As(err, &se):
		return httpapi.Errorf(http.StatusConflict, se.Code, "%s", se.Error()).With(map[string]any{"expected": se.Expected, "got": se.Got})
	case errors.As(err, &we):
		return httpapi.Errorf(http.StatusUnprocessableEntity, wmsclient.CodeWeight, "%s", we.Error()).
			With(map[string]any{"box_no": we.BoxNo, "expected_g": we.ExpectedG, "got_g": we.GotG, "allowed_g": we.AllowedG})
	case errors.Is(err, domain.ErrWrongWarehouse):
		return httpapi.Errorf(http.StatusForbidden, wmsclient.CodeWrongWarehouse, "%s", err.Error())
	case errors.Is(err, domain.ErrTaskTaken):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeTaskTaken, "%s", err.Error())
	case errors.Is(err, domain.ErrKeyReused):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeKeyReused, "%s", err.Error())
	case errors.Is(err, domain.ErrState):
		return httpapi.Errorf(http.StatusConflict, wmsclient.CodeInvalidState, "%s", err.Error())
	}
	return problem(err)
}

func floorFail(w http.ResponseWriter, r *http.Request, err error) {
	httpapi.WriteError(w, r, floorProblem(err))
}

// decodeOr decodes the body into v, answering the error itself.
func decodeOr(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := httpapi.Decode(r, v); err != nil {
		floorFail(w, r, err)
		return false
	}
	return true
}

func answer[T any](w http.ResponseWriter, r *http.Request, v T, err error) {
	if err != nil {
		floorFail(w, r, err)
		return
	}
	httpapi.WriteJSON(w, http.StatusOK, v)
}

func wh(r *http.Request) string { return chi.URLParam(r, "wh") }
func id(r *http.Request) string { return chi.URLParam(r, "id") }

func limit(r *http.Request, def int) int {
	n, err := strconv.Atoi(r.URL.Query().Get("limit"))
	if err != nil || n <= 0 {
		return def
	}
	return n
}

func (h *Handler) putItem(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.Item
	if !decodeOr(w, r, &in) {
		return
	}
	it, err := h.svc.PutItem(r.Context(), in.SKU, in.Name, in.Zone, in.Handling, in.UnitWeightG, in.StoreMOQ)
	answer(w, r, wmsclient.Item{SKU: it.SKU(), Name: it.Name(), Zone: string(it.Zone()), Handling: string(it.Handling()),
		UnitWeightG: it.UnitWeightG(), StoreMOQ: it.StoreMOQ()}, err)
}

func (h *Handler) putZone(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.Zone
	if !decodeOr(w, r, &in) {
		return
	}
	z, err := h.svc.PutZone(r.Context(), wh(r), in.Code, in.Temp, in.Area)
	answer(w, r, wmsclient.Zone{Code: z.Code, Temp: string(z.Temp), Area: string(z.Area)}, err)
}

func (h *Handler) putBin(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.Bin
	if !decodeOr(w, r, &in) {
		return
	}
	answer(w, r, in, h.svc.PutBin(r.Context(), wh(r), in.Bin, in.Zone))
}

func (h *Handler) receiveGoods(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.ReceiptRequest
	if !decodeOr(w, r, &in) {
		return
	}
	rc, dup, err := h.svc.ReceiveGoods(r.Context(), app.ReceiptInput{Warehouse: wh(r), IdempotencyKey: in.IdempotencyKey, PurchaseOrder: in.PurchaseOrder,
		Bin: in.Bin, SKU: in.SKU, Batch: in.Batch, ProductionDate: in.ProductionDate, ExpiryDate: in.ExpiryDate, Qty: in.Qty, Operator: in.Operator})
	answer(w, r, wmsclient.GoodsReceipt{ReceiptID: rc.ID, Duplicate: dup}, err)
}

func receiptOut(x domain.Receipt) wmsclient.ReceiptRecord {
	return wmsclient.ReceiptRecord{ReceiptID: x.ID, PurchaseOrder: x.PurchaseOrder, Bin: x.Bin, SKU: x.SKU, Batch: x.Batch,
		ProductionDate: x.Production.Format(time.DateOnly), ExpiryDate: x.Expiry.Format(time.DateOnly), Qty: x.Qty, PutAway: x.PutAway,
		Operator: x.Operator, At: x.At.UTC()}
}

func (h *Handler) receipts(w http.ResponseWriter, r *http.Request) {
	rs, err := h.svc.Receipts(r.Context(), wh(r), r.URL.Query().Get("purchase_order"), limit(r, 50))
	out := make([]wmsclient.ReceiptRecord, len(rs))
	for i, x := range rs {
		out[i] = receiptOut(x)
	}
	answer(w, r, out, err)
}

func (h *Handler) putAwayReceipt(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.PutAwayReceiptRequest
	if !decodeOr(w, r, &in) {
		return
	}
	x, _, err := h.svc.PutAwayReceipt(r.Context(), wh(r), id(r), in.IdempotencyKey, in.Bin, in.Operator, in.Qty)
	answer(w, r, receiptOut(x), err)
}

func (h *Handler) purchaseOrder(w http.ResponseWriter, r *http.Request) {
	po, err := h.svc.PurchaseOrder(r.Context(), wh(r), chi.URLParam(r, "id"))
	out := wmsclient.PurchaseOrder{ID: po.ID, Warehouse: po.Warehouse, Supplier: po.Supplier, Lines: make([]wmsclient.POLine, len(po.Lines))}
	for i, l := range po.Lines {
		out.Lines[i] = wmsclient.POLine{SKU: l.SKU, Ordered: l.Ordered, Received: l.Received}
	}
	answer(w, r, out, err)
}

func (h *Handler) binStock(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	f := domain.StockFilter{SKU: q.Get("sku"), Bin: q.Get("bin"), Batch: q.Get("batch")}
	if v := q.Get("expiring_before"); v != "" {
		d, err := time.Parse(time.DateOnly, v)
		if err != nil {
			floorFail(w, r, fmt.Errorf("%w: expiring_before %q is not YYYY-MM-DD", domain.ErrValidation, v))
			return
		}
		f.ExpiringBefore = d
	}
	bs, err := h.svc.BinStock(r.Context(), wh(r), f)
	out := make([]wmsclient.BinStock, len(bs))
	for i, b := range bs {
		out[i] = wmsclient.BinStock{Bin: b.Bin, Area: string(b.Area), Zone: string(b.Zone), SKU: b.SKU, Batch: b.Batch,
			ProductionDate: b.Production.Format(time.DateOnly), ExpiryDate: b.Expiry.Format(time.DateOnly), OnHand: b.OnHand, Occupied: b.Occupied}
	}
	answer(w, r, out, err)
}

func (h *Handler) movements(w http.ResponseWriter, r *http.Request) {
	ms, err := h.svc.Movements(r.Context(), wh(r), r.URL.Query().Get("sku"), limit(r, 100))
	out := make([]wmsclient.Movement, len(ms))
	for i, m := range ms {
		out[i] = wmsclient.Movement{ID: m.ID, Bin: m.Bin, SKU: m.SKU, Batch: m.Batch, Kind: m.Kind, Qty: m.Qty, Ref: m.Ref, At: m.At.UTC(), Uploaded: m.Uploaded}
	}
	answer(w, r, out, err)
}

func workOrderOut(wo domain.WorkOrder, ps []domain.Pick) wmsclient.WorkOrder {
	out := wmsclient.WorkOrder{ID: wo.ID, WMSOrderID: wo.WMSOrderID, Carrier: wo.Carrier, Zone: string(wo.Zone), Handling: string(wo.Handling),
		Status: string(wo.Status), Reason: wo.Reason, PickListID: wo.PickListID, Slot: wo.SlotNo, Lines: make([]wmsclient.WorkLine, len(wo.Lines))}
	for i, l := range wo.Lines {
		out.Lines[i] = wmsclient.WorkLine{LineNo: l.LineNo, SKU: l.SKU, Name: l.Name, Qty: l.Qty, Picked: l.Picked, QCed: l.QCed}
	}
	for _, p := range ps {
		out.Picks = append(out.Picks, wmsclient.Pick{Bin: p.Bin, SKU: p.SKU, Batch: p.Batch, Qty: p.Qty, Picked: p.Picked})
	}
	return out
}

func (h *Handler) workOrders(w http.ResponseWriter, r *http.Request) {
	st, err := domain.ParseWorkOrderStatus(r.URL.Query().Get("status"))
	if err != nil {
		floorFail(w, r, err)
		return
	}
	wos, err := h.svc.WorkOrders(r.Context(), wh(r), st, r.URL.Query().Get("after"), limit(r, 50))
	out := make([]wmsclient.WorkOrder, len(wos))
	for i, wo := range wos {
		out[i] = workOrderOut(wo, nil)
	}
	answer(w, r, out, err)
}

func (h *Handler) workOrder(w http.ResponseWriter, r *http.Request) {
	wo, ps, err := h.svc.WorkOrder(r.Context(), wh(r), id(r))
	answer(w, r, workOrderOut(wo, ps), err)
}

func (h *Handler) orderWorkOrders(w http.ResponseWriter, r *http.Request) {
	o, err := h.svc.Order(r.Context(), id(r))
	if err == nil && o.Warehouse != wh(r) {
		err = domain.ErrWrongWarehouse
	}
	if err != nil {
		floorFail(w, r, err)
		return
	}
	wos, err := h.svc.WorkOrdersOf(r.Context(), o.WMSOrderID)
	out := make([]wmsclient.WorkOrder, len(wos))
	for i, wo := range wos {
		out[i] = workOrderOut(wo, nil)
	}
	answer(w, r, out, err)
}

func taskOut(t domain.Task) wmsclient.Task {
	out := wmsclient.Task{ID: t.ID, PickListID: t.PickListID, Zone: string(t.Zone), Status: string(t.Status), Picker: t.Picker,
		Steps: make([]wmsclient.Step, len(t.Steps))}
	if s, ok := t.Next(); ok {
		out.Next = s.StepNo
	}
	for i, s := range t.Steps {
		out.Steps[i] = wmsclient.Step{StepNo: s.StepNo, WorkOrderID: s.WorkOrderID, Slot: s.Slot, Bin: s.Bin, SKU: s.SKU, Batch: s.Batch, Qty: s.Qty, Picked: s.Picked}
	}
	return out
}

func pickListOut(pl domain.PickList) wmsclient.PickList {
	out := wmsclient.PickList{ID: pl.ID, Carrier: pl.Carrier, Status: string(pl.Status), WorkOrders: pl.WorkOrder, Tasks: make([]wmsclient.Task, len(pl.Tasks))}
	for i, t := range pl.Tasks {
		out.Tasks[i] = taskOut(t)
	}
	return out
}

func (h *Handler) createPickList(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.PickListRequest
	if !decodeOr(w, r, &in) {
		return
	}
	pl, err := h.svc.CreatePickList(r.Context(), wh(r), in.IdempotencyKey, in.Operator, in.WorkOrderIDs)
	answer(w, r, pickListOut(pl), err)
}

func (h *Handler) pickLists(w http.ResponseWriter, r *http.Request) {
	pls, err := h.svc.PickLists(r.Context(), wh(r), domain.PickListStatus(r.URL.Query().Get("status")), limit(r, 20))
	out := make([]wmsclient.PickList, len(pls))
	for i, pl := range pls {
		out[i] = pickListOut(pl)
	}
	answer(w, r, out, err)
}

func (h *Handler) pickList(w http.ResponseWriter, r *http.Request) {
	pl, err := h.svc.PickList(r.Context(), wh(r), id(r))
	answer(w, r, pickListOut(pl), err)
}

func (h *Handler) task(w http.ResponseWriter, r *http.Request) {
	t, err := h.svc.Task(r.Context(), wh(r), id(r))
	answer(w, r, taskOut(t), err)
}

func (h *Handler) claim(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.ClaimRequest
	if !decodeOr(w, r, &in) {
		return
	}
	t, err := h.svc.ClaimTask(r.Context(), wh(r), id(r), in.Picker)
	answer(w, r, taskOut(t), err)
}

func (h *Handler) scan(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.ScanRequest
	if !decodeOr(w, r, &in) {
		return
	}
	res, err := h.svc.ScanPick(r.Context(), wh(r), id(r), in.Picker, in.IdempotencyKey, in.Bin, in.SKU, in.Qty)
	answer(w, r, wmsclient.ScanResult{Task: taskOut(res.Task), StepNo: res.StepNo, ListPicked: res.ListPicked, Duplicate: res.Duplicate}, err)
}

func (h *Handler) qcView(w http.ResponseWriter, r *http.Request) {
	pl, wos, err := h.svc.QCView(r.Context(), wh(r), id(r))
	out := wmsclient.QCView{PickList: pickListOut(pl), WorkOrders: make([]wmsclient.WorkOrder, len(wos))}
	for i, wo := range wos {
		out.WorkOrders[i] = workOrderOut(wo, nil)
	}
	answer(w, r, out, err)
}

func (h *Handler) qcScan(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.QCScanRequest
	if !decodeOr(w, r, &in) {
		return
	}
	res, err := h.svc.QCScan(r.Context(), wh(r), id(r), in.IdempotencyKey, in.SKU, in.Qty)
	answer(w, r, wmsclient.QCResult{WorkOrderID: res.WorkOrderID, Slot: res.Slot, Duplicate: res.Duplicate}, err)
}

func boxesOut(bs []domain.Box) []wmsclient.Box {
	out := make([]wmsclient.Box, len(bs))
	for i, b := range bs {
		out[i] = wmsclient.Box{ID: b.ID, BoxNo: b.BoxNo, ExpectedG: b.ExpectedG, WeightG: b.WeightG, Lines: make([]wmsclient.BoxLine, len(b.Lines))}
		for j, l := range b.Lines {
			out[i].Lines[j] = wmsclient.BoxLine{SKU: l.SKU, Qty: l.Qty}
		}
	}
	return out
}

func (h *Handler) pack(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.PackRequest
	if !decodeOr(w, r, &in) {
		return
	}
	boxes := make([]app.PackInput, len(in.Boxes))
	for i, b := range in.Boxes {
		boxes[i].WeightG = b.WeightG
		for _, l := range b.Lines {
			boxes[i].Lines = append(boxes[i].Lines, domain.Line{SKU: l.SKU, Qty: l.Qty})
		}
	}
	bs, err := h.svc.Pack(r.Context(), wh(r), id(r), in.IdempotencyKey, boxes)
	answer(w, r, boxesOut(bs), err)
}

func (h *Handler) boxes(w http.ResponseWriter, r *http.Request) {
	bs, err := h.svc.Boxes(r.Context(), wh(r), id(r))
	answer(w, r, boxesOut(bs), err)
}

func parcelsOut(ps []domain.Parcel) []wmsclient.Parcel {
	out := make([]wmsclient.Parcel, len(ps))
	for i, p := range ps {
		out[i] = wmsclient.Parcel{ParcelID: p.ParcelID, BoxNo: p.BoxNo, WorkOrderID: p.WorkOrderID, DeliveryOrderID: p.DeliveryOrderID,
			OrderID: p.OrderID, Carrier: p.Carrier, WaybillNo: p.WaybillNo, WeightG: p.WeightG, Tracking: p.Tracking}
		for _, l := range p.Refused {
			out[i].RefusedLines = append(out[i].RefusedLines, wmsclient.ParcelLine{SKU: l.SKU, Qty: l.Qty})
		}
	}
	return out
}

func (h *Handler) handover(w http.ResponseWriter, r *http.Request) {
	var in wmsclient.HandoverRequest
	if !decodeOr(w, r, &in) {
		return
	}
	ho, err := h.svc.Handover(r.Context(), wh(r), in.Carrier, in.IdempotencyKey)
	answer(w, r, wmsclient.Handover{ID: ho.ID, Carrier: ho.Carrier, Parcels: parcelsOut(ho.Parcels), Duplicate: ho.Duplicate}, err)
}

func handoverOut(ho domain.Handover) wmsclient.Handover {
	out := wmsclient.Handover{ID: ho.ID, Carrier: ho.Carrier, Parcels: parcelsOut(ho.Parcels), Duplicate: ho.Duplicate, ParcelCount: ho.ParcelCount}
	if !ho.At.IsZero() {
		at := ho.At.UTC()
		out.At = &at
	}
	if !ho.ImportedAt.IsZero() {
		at := ho.ImportedAt.UTC()
		out.ImportedAt = &at
	}
	return out
}

func (h *Handler) handovers(w http.ResponseWriter, r *http.Request) {
	hs, err := h.svc.HandoverBatches(r.Context(), wh(r), r.URL.Query().Get("carrier"), limit(r, 50))
	out := make([]wmsclient.Handover, len(hs))
	for i, ho := range hs {
		out[i] = handoverOut(ho)
	}
	answer(w, r, out, err)
}

func (h *Handler) handoverBatch(w http.ResponseWriter, r *http.Request) {
	ho, err := h.svc.HandoverBatch(r.Context(), wh(r), id(r))
	answer(w, r, handoverOut(ho), err)
}

// parcelReport takes TMS's tracking report; the body is not believed,
// TMS is asked (app.TrackParcel).
func (h *Handler) parcelReport(w http.ResponseWriter, r *http.Request) {
	p, _, err := h.svc.TrackParcel(r.Context(), id(r))
	answer(w, r, parcelsOut([]domain.Parcel{p})[0], err)
}

func (h *Handler) orderParcels(w http.ResponseWriter, r *http.Request) {
	ps, open, err := h.svc.OrderParcels(r.Context(), id(r))
	answer(w, r, wmsclient.OrderParcels{OrderID: id(r), Parcels: parcelsOut(ps), Unpacked: open}, err)
}
