package graph

import (
	"context"
	"errors"
	"fmt"

	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/apps/wms/wmsclient"
	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/model"
)

// Warehouse is what the warehouse console needs of WMS; *wmsclient.Client
// satisfies it.
type Warehouse interface {
	WorkOrders(ctx context.Context, wh, status, after string, limit int) ([]wmsclient.WorkOrder, error)
	WorkOrder(ctx context.Context, wh, id string) (wmsclient.WorkOrder, error)
	PickList(ctx context.Context, wh, id string) (wmsclient.PickList, error)
	Task(ctx context.Context, wh, id string) (wmsclient.Task, error)
	QCView(ctx context.Context, wh, pickListID string) (wmsclient.QCView, error)
	Boxes(ctx context.Context, wh, workOrderID string) ([]wmsclient.Box, error)
	BinStock(ctx context.Context, wh string, q wmsclient.StockQuery) ([]wmsclient.BinStock, error)
	PurchaseOrder(ctx context.Context, wh, id string) (wmsclient.PurchaseOrder, error)
	Receipts(ctx context.Context, wh, po string, limit int) ([]wmsclient.ReceiptRecord, error)
	PutAwayReceipt(ctx context.Context, wh, receiptID string, r wmsclient.PutAwayReceiptRequest) (wmsclient.ReceiptRecord, error)
	HandoverBatches(ctx context.Context, wh, carrier string, limit int) ([]wmsclient.Handover, error)
	HandoverBatch(ctx context.Context, wh, id string) (wmsclient.Handover, error)
	Movements(ctx context.Context, wh, sku string, limit int) ([]wmsclient.Movement, error)
	ReceiveGoods(ctx context.Context, wh string, r wmsclient.ReceiptRequest) (wmsclient.GoodsReceipt, error)
	CreatePickList(ctx context.Context, wh string, r wmsclient.PickListRequest) (wmsclient.PickList, error)
	ClaimTask(ctx context.Context, wh, id string, r wmsclient.ClaimRequest) (wmsclient.Task, error)
	Scan(ctx context.Context, wh, id string, r wmsclient.ScanRequest) (wmsclient.ScanResult, error)
	QCScan(ctx context.Context, wh, pickListID string, r wmsclient.QCScanRequest) (wmsclient.QCResult, error)
	Pack(ctx context.Context, wh, workOrderID string, r wmsclient.PackRequest) ([]wmsclient.Box, error)
	Handover(ctx context.Context, wh string, r wmsclient.HandoverRequest) (wmsclient.Handover, error)
	ConfirmQC(ctx context.Context, wh, pickListID string) (wmsclient.QCConfirmation, error)
	SecondQC(ctx context.Context, wh, workOrderID string, r wmsclient.SecondQCRequest) (wmsclient.WorkOrder, error)
	ConfirmShortage(ctx context.Context, wh, workOrderID string, r wmsclient.ShortageRequest) (wmsclient.Shortage, error)
	PutAwayTasks(ctx context.Context, wh, status string, limit int) ([]wmsclient.PutAwayTask, error)
	ConfirmPutAway(ctx context.Context, wh, id string, r wmsclient.PutAwayRequest) (wmsclient.PutAwayTask, error)
}

var _ Warehouse = (*wmsclient.Client)(nil)

// floorOperator is the caller acting in a warehouse: a WAREHOUSE_OPERATOR in
// the warehouse of their token (naming another is FORBIDDEN; a token
// without one may not act), an ADMIN in the warehouse named.
func floorOperator(ctx context.Context, named *string) (auth.Identity, string, error) {
	id, err := caller(ctx)
	if err != nil {
		return id, "", err
	}
	switch id.Role {
	case auth.RoleWarehouseOperator:
		if id.Warehouse == "" {
			return id, "", &PublicError{Code: CodeForbidden, Message: "your token names no warehouse"}
		}
		if named != nil && *named != "" && *named != id.Warehouse {
			return id, "", &PublicError{Code: CodeForbidden, Message: fmt.Sprintf("you operate warehouse %s, not %s", id.Warehouse, *named)}
		}
		return id, id.Warehouse, nil
	case auth.RoleAdmin:
		if named == nil || *named == "" {
			return id, "", &PublicError{Code: CodeBadUserInput, Message: "warehouse is required"}
		}
		return id, *named, nil
	}
	return id, "", errForbidden
}

// whErr maps WMS's refusal to act on another warehouse's document, and
// its not-found, to top-level errors; nil for anything else.
func whErr(err error) error {
	var p *httpapi.Problem
	if !errors.As(err, &p) {
		return nil
	}
	switch p.Code {
	case wmsclient.CodeWrongWarehouse:
		return &PublicError{Code: CodeForbidden, Message: "that belongs to another warehouse"}
	case wmsclient.CodeNotFound:
		return notFound("that")
	}
	return nil
}

// readErr is a query's error: absent documents read as null.
func readErr(err error) (bool, error) {
	if e := whErr(err); e != nil {
		var pe *PublicError
		if errors.As(e, &pe) && pe.Code == CodeNotFound {
			return true, nil
		}
		return false, e
	}
	return false, err
}

// floorErrors turns WMS's expected refusals into the payload's errors; any
// other error comes back for the presenter.
func floorErrors(err error, input []string) ([]*model.UserError, error) {
	if e := whErr(err); e != nil {
		var pe *PublicError
		if errors.As(e, &pe) && pe.Code == CodeNotFound {
			return []*model.UserError{{Code: model.UserErrorCodeNotFound, Message: "not found", Field: input}}, nil
		}
		return nil, e
	}
	var p *httpapi.Problem
	if !errors.As(err, &p) {
		return nil, err
	}
	codes := map[string]model.UserErrorCode{
		wmsclient.CodeValidation:   model.UserErrorCodeValidationFailed,
		wmsclient.CodeConflict:     model.UserErrorCodeValidationFailed,
		wmsclient.CodeKeyReused:    model.UserErrorCodeIdempotencyKeyReused,
		wmsclient.CodeInvalidState: model.UserErrorCodeInvalidState,
		wmsclient.CodeTaskTaken:    model.UserErrorCodeTaskTaken,
		wmsclient.CodeWrongBin:     model.UserErrorCodeWrongBin,
		wmsclient.CodeWrongItem:    model.UserErrorCodeWrongItem,
		wmsclient.CodeTooMany:      model.UserErrorCodeQtyAboveRemaining,
		wmsclient.CodeTaskDone:     model.UserErrorCodeTaskComplete,
		wmsclient.CodeWeight:       model.UserErrorCodeWeightOutOfTolerance,
		wmsclient.CodeUnknownPO:    model.UserErrorCodeUnknownPurchaseOrder,
		wmsclient.CodePOElsewhere:  model.UserErrorCodePurchaseOrderOfAnotherWarehouse,
		wmsclient.CodeNotOnPO:      model.UserErrorCodeNotOnPurchaseOrder,
		wmsclient.CodeOverReceipt:  model.UserErrorCodeOverReceipt,
	}
	code, ok := codes[p.Code]
	if !ok {
		return nil, err
	}
	ue := &model.UserError{Code: code, Message: p.Message, Field: input}
	if code == model.UserErrorCodeIdempotencyKeyReused {
		ue.Field = []string{"idempotencyKey"}
	}
	var expected string
	decodeDetail(p.Details, "expected", &expected)
	if code == model.UserErrorCodeOverReceipt {
		var remaining int64
		decodeDetail(p.Details, "remaining", &remaining)
		expected = fmt.Sprint(remaining)
	}
	if expected != "" {
		ue.Reason = &expected
	}
	return []*model.UserError{ue}, nil
}

func optInt(n int) *int64 {
	if n == 0 {
		return nil
	}
	v := int64(n)
	return &v
}

func toWorkOrder(w wmsclient.WorkOrder) *model.WorkOrder {
	out := &model.WorkOrder{ID: w.ID, WmsOrderID: w.WMSOrderID, Carrier: w.Carrier, Zone: model.Zone(w.Zone), Handling: model.Handling(w.Handling),
		Status: model.WorkOrderStatus(w.Status), Reason: optStr(w.Reason), PickListID: optStr(w.PickListID), Slot: optInt(w.Slot),
		Lines: make([]*model.WorkOrderLine, len(w.Lines)), Picks: make([]*model.BinPick, len(w.Picks))}
	for i, l := range w.Lines {
		out.Lines[i] = &model.WorkOrderLine{LineNo: int64(l.LineNo), Sku: l.SKU, Name: l.Name, Qty: l.Qty, Picked: l.Picked, Qced: l.QCed}
	}
	for i, p := range w.Picks {
		out.Picks[i] = &model.BinPick{Bin: p.Bin, Sku: p.SKU, Batch: p.Batch, Qty: p.Qty, Picked: p.Picked}
	}
	return out
}

func toTask(t wmsclient.Task) *model.PickTask {
	out := &model.PickTask{ID: t.ID, PickListID: t.PickListID, Zone: model.Zone(t.Zone), Status: t.Status, Picker: optStr(t.Picker),
		Steps: make([]*model.PickStep, len(t.Steps))}
	for i, s := range t.Steps {
		out.Steps[i] = &model.PickStep{StepNo: int64(s.StepNo), WorkOrderID: s.WorkOrderID, Slot: int64(s.Slot), Bin: s.Bin, Sku: s.SKU,
			Batch: s.Batch, Qty: s.Qty, Picked: s.Picked}
		if s.StepNo == t.Next {
			out.NextStep = out.Steps[i]
		}
	}
	return out
}

func toPickList(pl wmsclient.PickList) *model.PickList {
	out := &model.PickList{ID: pl.ID, Carrier: pl.Carrier, Status: pl.Status, WorkOrderIds: pl.WorkOrders, Tasks: make([]*model.PickTask, len(pl.Tasks))}
	if out.WorkOrderIds == nil {
		out.WorkOrderIds = []string{}
	}
	for i, t := range pl.Tasks {
		out.Tasks[i] = toTask(t)
	}
	return out
}

func toBoxes(bs []wmsclient.Box) []*model.Box {
	out := make([]*model.Box, len(bs))
	for i, b := range bs {
		out[i] = &model.Box{ID: b.ID, BoxNo: int64(b.BoxNo), ExpectedWeightG: b.ExpectedG, WeightG: b.WeightG, Lines: make([]*model.BoxLine, len(b.Lines))}
		for j, l := range b.Lines {
			out[i].Lines[j] = &model.BoxLine{Sku: l.SKU, Qty: l.Qty}
		}
	}
	return out
}

func toHandover(h wmsclient.Handover) *model.HandoverBatch {
	out := &model.HandoverBatch{ID: h.ID, Carrier: h.Carrier, Parcels: make([]*model.Parcel, len(h.Parcels)), At: h.At, ImportedAt: h.ImportedAt}
	for i, p := range h.Parcels {
		out.Parcels[i] = &model.Parcel{ID: p.ParcelID, BoxNo: int64(p.BoxNo), WorkOrderID: p.WorkOrderID, OrderID: p.OrderID,
			WaybillNo: p.WaybillNo, WeightG: p.WeightG, Tracking: p.Tracking}
	}
	return out
}

func toShortage(sh wmsclient.Shortage) *model.ConfirmShortagePayload {
	out := &model.ConfirmShortagePayload{WorkOrder: toWorkOrder(sh.WorkOrder), Lines: make([]*model.ShortageLine, len(sh.Lines)),
		Losses: int64(sh.Losses), PutAways: int64(sh.PutAways), Errors: []*model.UserError{}}
	for i, l := range sh.Lines {
		out.Lines[i] = &model.ShortageLine{Sku: l.SKU, Ordered: l.Ordered, Short: l.Short, Ship: l.Ship, Withheld: l.Withheld}
		if r := model.LossReason(l.Reason); r.IsValid() {
			out.Lines[i].Reason = &r
		}
	}
	return out
}

func toPutAway(t wmsclient.PutAwayTask) *model.PutAwayTask {
	return &model.PutAwayTask{ID: t.ID, WorkOrderID: t.WorkOrderID, Bin: t.Bin, Sku: t.SKU, Batch: t.Batch, Qty: t.Qty, Status: t.Status, Operator: optStr(t.Operator)}
}

func toReceipt(x wmsclient.ReceiptRecord) *model.GoodsReceipt {
	return &model.GoodsReceipt{ID: x.ReceiptID, PurchaseOrder: x.PurchaseOrder, Bin: optStr(x.Bin), Sku: x.SKU, Batch: x.Batch,
		ProductionDate: x.ProductionDate, ExpiryDate: x.ExpiryDate, Qty: x.Qty, PutAway: x.PutAway, AtDock: x.Qty - x.PutAway,
		Operator: x.Operator, At: x.At}
}
