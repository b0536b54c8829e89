package graph

import (
	"errors"

	"github.com/harvest/harvest/apps/inventory/inventoryclient"
	"github.com/harvest/harvest/apps/platform/httpapi"
	"github.com/harvest/harvest/graph/auth"
	"github.com/harvest/harvest/graph/model"
)

// operator is how the audit names a staff caller: ROLE:subject.
func operator(id auth.Identity) string { return id.Role + ":" + id.Subject }

func intOr(v *int64, def int) int {
	if v == nil {
		return def
	}
	return int(*v)
}

// badInput turns a query's refusal by the service (a malformed argument,
// an area nobody serves) into BAD_USER_INPUT with the service's reason
// and, where it names one, the argument; other errors pass.
func badInput(err error, arg string) error {
	var p *httpapi.Problem
	if !errors.As(err, &p) {
		return err
	}
	switch p.Code {
	case inventoryclient.CodeValidation, inventoryclient.CodeNotServed:
		ext := map[string]any{"reason": p.Code}
		if f, ok := p.Details["field"].(string); ok && f != "" {
			ext["field"] = f
		} else if arg != "" {
			ext["field"] = arg
		}
		return &PublicError{Code: CodeBadUserInput, Message: p.Message, Extensions: ext}
	}
	return err
}

func toSlotCapacity(c inventoryclient.SlotCapacity) *model.SlotCapacity {
	out := &model.SlotCapacity{Warehouse: c.Warehouse, Type: model.SlotType(c.Type), Date: c.Date, Capacity: c.Capacity, Taken: c.Taken, Open: c.Open}
	if c.UpdatedBy != "" {
		by := c.UpdatedBy
		out.UpdatedBy = &by
	}
	return out
}

func toServedArea(a inventoryclient.ServedArea) *model.ServedArea {
	return &model.ServedArea{Province: a.Province, City: a.City, District: a.District, Warehouses: append([]string{}, a.Warehouses...)}
}
