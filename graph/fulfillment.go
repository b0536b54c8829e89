package graph

import (
	"context"
	"strings"

	"github.com/harvest/harvest/apps/oms/omsclient"
	"github.com/harvest/harvest/graph/model"
)

func toCapacity(c omsclient.WarehouseCapacity) *model.WarehouseCapacity {
	return &model.WarehouseCapacity{Warehouse: c.Warehouse, Day: c.Day, Capacity: int64(c.Capacity), Used: int64(c.Used)}
}

func optStr(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// toStage is OMS's stage name as the schema's enum (the name in upper case).
func toStage(name string) model.FulfillmentStage {
	return model.FulfillmentStage(strings.ToUpper(name))
}

func toTimeline(t omsclient.FulfillmentTimeline) *model.FulfillmentTimeline {
	out := &model.FulfillmentTimeline{OrderID: t.OrderID, Units: make([]*model.FulfillmentUnit, 0, len(t.Units)),
		Steps: make([]*model.FulfillmentStep, 0, len(t.Steps))}
	for _, u := range t.Units {
		out.Units = append(out.Units, &model.FulfillmentUnit{ID: u.ID, ParentID: optStr(u.ParentID), Stage: toStage(u.Stage),
			StageName: u.StageName, State: model.FulfillmentUnitState(u.State), ResumeAt: u.ResumeAt, Attempts: int64(u.Attempts),
			FailCode: optStr(u.FailCode), FailReason: optStr(u.FailReason), Warehouse: optStr(u.Warehouse),
			Supplier: optStr(u.Supplier), WaybillNo: optStr(u.WaybillNo), UpdatedAt: u.UpdatedAt})
	}
	for _, s := range t.Steps {
		out.Steps = append(out.Steps, &model.FulfillmentStep{UnitID: s.UnitID, Stage: toStage(s.Stage), StageName: s.StageName,
			Outcome: s.Outcome, Note: optStr(s.Note), Owner: optStr(s.Owner), At: s.At, DurationMs: s.DurationMS})
	}
	return out
}

func toSuspension(s omsclient.FulfillmentSuspension) *model.FulfillmentSuspension {
	out := &model.FulfillmentSuspension{Suspended: s.Suspended, Reason: optStr(s.Reason), Operator: optStr(s.Operator)}
	if !s.Since.IsZero() {
		out.Since = &s.Since
	}
	return out
}

// switchFulfillment suspends or resumes the pipeline as the caller.
func (r *mutationResolver) switchFulfillment(ctx context.Context, req omsclient.SuspensionRequest) (*model.FulfillmentSuspensionPayload, error) {
	id, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	req.Operator = id.Role + ":" + id.Subject
	s, err := r.Orders.SetFulfillmentSuspension(ctx, req)
	if err != nil {
		ues, err := userErrors(err, hints{input: []string{"input"}})
		if err != nil {
			return nil, err
		}
		return &model.FulfillmentSuspensionPayload{Errors: ues}, nil
	}
	return &model.FulfillmentSuspensionPayload{Suspension: toSuspension(s), Errors: []*model.UserError{}}, nil
}
